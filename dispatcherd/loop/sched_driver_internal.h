/* sched_driver_internal.h - shared between sched_driver*.c and stale_locks.c. */
#ifndef ADC_SCHED_DRIVER_INTERNAL_H
#define ADC_SCHED_DRIVER_INTERNAL_H

#include "sched_driver.h"
#include "uuid_index.h"

enum sched_driver_phase { SDP_WAIT_POLL = 0, SDP_STALE, SDP_RUN, SDP_CLOSED };

struct sched_driver {
	struct sched_driver_opts o;
	struct sched *sched;
	enum sched_driver_phase phase;
	uv_timer_t tick, kick, stale_timer;
	int open_handles;
	bool kick_pending;

	/* The input of the latest pass. The containers point into the queue's entries (their
	 * uuids and needs): valid until the next sd_input reaps the entries the queue removed
	 * meanwhile (queue_reap), or, when the passes stop, until sd_detach copies the uuids. */
	struct sched_input in;
	struct sched_ctr *ctrs;
	size_t n_ctrs, cap_ctrs;
	char (*detached)[QUEUE_UUID_MAX]; /* sd_detach's copies of the uuids, or NULL */
	struct uuid_index ctr_index;	  /* uuid -> ctrs index, built on demand for status */
	uint64_t ctr_index_pass;	  /* 1 + the pass it was built for; 0: none */
	struct uuid_index run_index;	  /* uuid -> pool_runner_states' answer, each pass */
	struct sched_worker *workers;	  /* copy of the pool's array, ids below */
	char **worker_ids;		  /* into wid_buf */
	char *wid_buf;
	size_t cap_wid_buf;
	size_t n_workers, cap_workers;
	char **uncached;
	size_t n_uncached, cap_uncached;
	struct sched_result pass, sync;
	bool have_pass;
	uint64_t passes;

	/* Our memory of earlier decisions (struct sched_memo): a few thousand at most
	 * (containers unlocked over quota, cancelled or fallen back lately), with their uuids
	 * NUL-padded beside them, found through an index rebuilt for each pass, since every
	 * container of the view is looked up. The pass reads it as sched_input.memos. */
	struct sched_memo *memo;
	char (*memo_uuid)[QUEUE_UUID_MAX];
	size_t n_memo, cap_memo;
	struct uuid_index memo_index;
	size_t *qcount; /* queue_entries: state x (type + none) counts (sd_queue_count) */
	size_t n_qcount;
	bool bug_logged;

	/* 2.9 */
	sched_time stale_started;
	bool stale_had_unknown;
};

#define SD_STATES (QST_CANCELLED + 1)

/* queue_entries (sched_driver_metrics.c): begin (false: nothing to count), count each entry,
 * publish; sd_queue_metrics does all three over the view. */
bool sd_queue_count_begin(struct sched_driver *d);
void sd_queue_count(struct sched_driver *d, const struct queue_ent *e);
void sd_queue_count_publish(struct sched_driver *d);

/* Build d->in from the queue and the pool, now, counting queue_entries on the way. 0 or
 * -ENOMEM. */
int sd_input(struct sched_driver *d);
/* Carry out the decisions of r (indices into d->in). */
void sd_execute(struct sched_driver *d, const struct sched_result *r);
struct sched_memo *sd_memo_get(struct sched_driver *d, const char *uuid, bool create);
/* The passes stopped (the gate closed, or not started): the last pass's containers are kept
 * for the management API with their uuids copied, and the queue's removed entries freed. */
void sd_detach(struct sched_driver *d);
/* The scheduling passes may start. */
void sd_begin_run(struct sched_driver *d);

/* sched_driver_metrics.c: the pass's gauges (after each pass); queue_entries (each wake-up). */
void sd_metrics(struct sched_driver *d);
void sd_metrics_budget_cap(struct sched_driver *d);
void sd_queue_metrics(struct sched_driver *d);

/* stale_locks.c */
void stale_locks_begin(struct sched_driver *d);
/* An on_change wake-up during 2.9: check again. */
void stale_locks_check(struct sched_driver *d);

#endif
