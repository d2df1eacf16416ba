/*
 * queue.h - the dispatcher's mirror of the API server's containers (spec/dispatcher.md 2,
 * docs/QUEUE.md).
 *
 * A hash map uuid -> struct queue_ent, kept up to date by polling (queue_poll.c: identity,
 * then "mine", "available" and "missing" list calls), plus the state-changing calls of 2.6
 * (queue_ops.c), each serialised per container. For every container the instance-type choice
 * is computed once (after its mounts arrive, queue_mounts.c) and kept in the entry; a poll
 * that brings an unchanged record does no recomputation. The scheduler reads a view sorted by
 * priority (queue_view) and is told about changes through one coalescing wake-up callback.
 *
 * Everything runs on one libuv loop; no function here blocks. Entry pointers are valid until
 * control returns to the loop: keep uuids, not pointers, across callbacks.
 */
#ifndef ADC_QUEUE_H
#define ADC_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "instance_types.h"

struct api_client;
struct queue;

#define QUEUE_UUID_MAX 32 /* "zzzzz-dz642-" + 15 = 27 characters + NUL */

enum queue_state {
	QST_UNKNOWN = 0,
	QST_QUEUED,
	QST_LOCKED,
	QST_RUNNING,
	QST_COMPLETE,
	QST_CANCELLED
};

/* How far the instance-type choice of an entry has got. */
enum queue_fit {
	QFIT_PENDING = 0, /* mounts not fetched yet: candidates not known */
	QFIT_OK,	  /* choice->n >= 1 */
	QFIT_NONE,	  /* nothing fits or the record cannot be used: choice->n == 0,
				 * fit_error says why; never a crash (weakness 1) */
};

/* One operation in flight per container (spec 4.5). */
enum queue_op {
	QOP_NONE = 0,
	QOP_LOCK,
	QOP_UNLOCK,
	QOP_CANCEL,
	QOP_RUNTIME_ERROR,
	QOP_CANCEL_UNSAT
};

/* A mirrored container. Readers use the fields up to supervisor, and uuid; only queue_*.c
 * write.
 *
 * The scheduler's turn reads every entry once (the loop's sd_input_ctrs: state, fit, op,
 * priority, the times, choice, supervisor, lock_count), in view order, so scattered over the
 * heap: those fields come first, in 43 bytes that one cache line, or two, holds. The uuid (read
 * there only by address) and what only the queue uses follow. Enums and flags are bit-fields:
 * 152 bytes, a 160-byte malloc chunk (issue 16: 100,000 of them; queue_ent.c asserts it). */
struct queue_ent {
	int64_t priority;
	int64_t created_at_ns;	/* Unix ns of created_at; 0 when unparsable */
	uint64_t first_seen_ms; /* Unix ms of the poll that first saw it */
	/* Valid when fit == QFIT_OK; else &queue_no_choice (never NULL). Shared by the entries
	 * whose choice is the same (queue_choice.c): read only. */
	const struct itypes_choice *choice;
	/* When the list select asks for it (select_lock_count), plus our own locks since the
	 * last poll; else 0. */
	uint32_t lock_count;
	int16_t created_at_off; /* created_at's UTC offset, minutes (the API server's: 0) */
	enum queue_state state : 8;
	enum queue_fit fit : 8;
	enum queue_op op : 8;  /* the operation in flight, QOP_NONE if none */
	bool locked_by_me : 1; /* locked_by_uuid is our token's uuid */
	bool supervisor : 1;   /* scheduling_parameters.supervisor */
	/* private from here on */
	bool tmp_overflow : 1;
	bool mounts_known : 1; /* tmp_capacity is from a mounts fetch */
	bool dno : 1;	       /* changed locally during the poll in flight (2.4) */
	bool mounts_busy : 1;  /* a mounts fetch is in flight */
	bool in_mounts_queue : 1;
	bool mounts_single : 1; /* a complete batch answer left it out: fetch it alone (GET) */
	uint8_t cancel_tries;	/* "cancel unsatisfiable" back-off exponent; the hot part's end */
	char uuid[QUEUE_UUID_MAX]; /* NUL-padded to its full size (a hash key as a whole) */
	uint32_t seen_gen;	   /* last poll generation that saw it */
	uint32_t view_pos;	   /* 1 + its index in the sorted view; 0: not placed */
	uint32_t view_new;    /* 1 + its index among the entries waiting to be placed; 0: none */
	char *fit_error;      /* QFIT_NONE: the runtime error text; else NULL */
	uint64_t spec_hash;   /* of the fields the choice depends on */
	int64_t tmp_capacity; /* from the mounts fetch */
	uint64_t retry_at_ms; /* monotonic: no mounts / cancel retry before */
	struct queue_ent *mq_next, *mq_prev; /* mounts fetch FIFO */
	void *pending;	       /* QFIT_PENDING: the saved requirements (queue_spec.c) */
	struct queue_rec *rec; /* the selected attributes, for the management API */
};

/* The choice of an entry that has none: no need, no candidates. */
extern const struct itypes_choice queue_no_choice;

/* Outcome of a state-changing call: err 0 on success, else negative (error has the text). */
typedef void (*queue_op_cb)(void *arg, const char *uuid, int err, const char *error);
/* The coalescing wake-up: runs on the loop at least once after any change. */
typedef void (*queue_on_change_fn)(void *ctx);

struct queue_stats {
	uint64_t polls_ok, polls_failed;
	uint64_t last_poll_ms; /* wall time the last successful poll started (threshold T) */
	uint64_t last_poll_duration_ms;
	uint64_t last_poll_requests;
	bool have_identity;
	size_t entries, pending_mounts, mounts_in_flight, unsatisfiable;
	size_t records; /* distinct selected-attribute records the entries share (queue_rec.c) */
	size_t choices; /* distinct instance-type choices they share (queue_choice.c) */
	uint64_t last_503_ms; /* from the API client (spec 4.3) */
};

struct queue_opts {
	uv_loop_t *loop;
	struct api_client *api;		   /* borrowed, outlives the queue */
	const struct cfg_cluster *cluster; /* borrowed */
	const struct itypes_table *itypes; /* borrowed */
	unsigned mounts_concurrency;	   /* 0: QUEUE_MOUNTS_CONCURRENCY */
	unsigned list_limit;		   /* 0: 1000 */
	unsigned mounts_batch;		   /* 0: QUEUE_MOUNTS_BATCH; 1: one GET each */
	/* The list calls also select lock_count (spec 2.3's select plus one attribute): for the
	 * spot fallback's -spot-fallback-after-attempts only, so that the reference's select is
	 * unchanged otherwise. */
	bool select_lock_count;
	/* Wake-ups (app/dispatcher.c sets them, in its table of who wakes whom); may be NULL. */
	queue_on_change_fn on_change; /* after any change to the cached containers */
	void *on_change_ctx;
	void (*on_poll)(void *ctx, bool ok); /* after every poll attempt, ok or not */
	void *on_poll_ctx;
};

#define QUEUE_MOUNTS_CONCURRENCY 4
#define QUEUE_MISSING_BATCH	 50
/* New containers whose mounts one list request fetches (docs/QUEUE.md: the API server's
 * default page size, a tenth of MaxItemsPerResponse). */
#define QUEUE_MOUNTS_BATCH 100

/* 0, -ENOMEM or a libuv error. Nothing is requested until queue_start. */
int queue_new(const struct queue_opts *o, struct queue **out);
/* Start polling now (first poll retried every max(PollInterval/10, 1 s), spec 2.7). */
int queue_start(struct queue *q);
/* Poll as soon as the one in flight (if any) ends. */
void queue_poll_now(struct queue *q);
/* Stop timers, free every entry; in-flight requests complete into nothing. closed(arg) runs
 * once the loop holds nothing of the queue (may be NULL). The API client must outlive it. */
void queue_free(struct queue *q, void (*closed)(void *arg), void *arg);

struct queue_ent *queue_get(const struct queue *q, const char *uuid);
size_t queue_count(const struct queue *q);
/* Every entry, ordered by priority descending, then first_seen_ms, then uuid; kept in order
 * between calls, so that a call after a few changes costs O(entries) without a sort. The
 * array is valid until control returns to the loop or the next queue_forget; the entries
 * it points to, until the next queue_reap. */
struct queue_ent *const *queue_view(struct queue *q, size_t *n);
/* Free the entries removed (polled away or forgotten) since the last call. Until then a
 * removed entry stays readable, as it was when removed, though the queue no longer has it
 * (queue_get does not find it): so that the scheduler loop can keep pointers into the
 * entries of its last view (uuids, needs) across turns instead of copies, and call this
 * just before it takes the next view. Nothing else calls it, and queue_free frees them. */
void queue_reap(struct queue *q);
/* Whether the last successful poll started after wall time t_ms (the 4.4 threshold). */
uint64_t queue_threshold_ms(const struct queue *q);
/* The token uuid from api_client_authorizations/current, NULL before the first success. */
const char *queue_identity(const struct queue *q);
void queue_stats(const struct queue *q, struct queue_stats *s);

/*
 * Spec 2.6. 0 when started (cb then runs exactly once, never from inside this call), or
 * -ENOENT (not in the queue), -EBUSY (another operation on this container is in flight: the
 * caller retries later, 4.5), -ECANCELED (closing), -ENOMEM. On success the response's state,
 * priority and locked_by_uuid are copied into the entry and the scheduler is woken (on_change).
 */
int queue_lock(struct queue *q, const char *uuid, queue_op_cb cb, void *arg);
int queue_unlock(struct queue *q, const char *uuid, queue_op_cb cb, void *arg);
int queue_cancel(struct queue *q, const char *uuid, queue_op_cb cb, void *arg);
int queue_set_runtime_error(struct queue *q, const char *uuid, const char *text, queue_op_cb cb,
			    void *arg);
/* Drop an entry the scheduler is done with (4.4 "forget"); 0 or -ENOENT / -EBUSY. */
int queue_forget(struct queue *q, const char *uuid);

const char *queue_state_name(enum queue_state s);
enum queue_state queue_state_parse(const char *s);

/* The "container" object of spec 7.2's queue entry: every arvados.Container attribute, the
 * selected ones (2.3) filled from the mirror, locked_by_uuid identity (queue_identity(), NULL
 * while unknown: "") when locked by us, the rest zero values (queue_rec.c). Caller frees;
 * NULL on ENOMEM. */
struct cJSON;
struct cJSON *queue_ent_container_json(const struct queue_ent *e, const char *identity);

/* An entry outside any queue, with what a poll mirrors of the API container record `record`
 * (state, priority, the attributes queue_ent_container_json shows; locked_by_me as given): so
 * that bench/mgmt renders the management API's containers with the product's code.
 * NULL when the record is unusable or on ENOMEM. Free with queue_ent_detached_free. */
struct queue_ent *queue_ent_detached_new(const struct cJSON *record, bool locked_by_me);
void queue_ent_detached_free(struct queue_ent *e);

/* The mirrored queue as JSON text (tests, management API); caller frees; NULL on ENOMEM. */
char *queue_dump_json(struct queue *q);

#endif
