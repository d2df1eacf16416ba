/*
 * scheduler.h - the scheduler's decision logic (spec/dispatcher.md section 4), with no I/O.
 * (Not "sched.h": sched/ is on the include path and would shadow the libc header.)
 *
 * The queue and the worker pool fill abstract views (struct sched_input, in
 * base/sched_types.h, which the pool includes instead of this file); one call of sched_pass()
 * runs a scheduling pass (4.2) and returns a list of decisions (lock, start, create, unlock,
 * shutdown, kill, cancel) plus each container's scheduling status, in a compact form that
 * sched_status_format() renders to the exact strings of 4.6. sched_sync() is the
 * reconciliation of 4.4, sched_stale_locks() the unlock list of 2.9, and struct sched_quota the
 * dynamic limits of 4.3 driven by an explicit clock. The dispatcher carries the decisions out;
 * nothing here blocks, allocates per decision beyond the result arrays, or reads a clock.
 *
 * Deviations from the reference (section 11 weaknesses, documented in docs/SCHEDULER.md) are
 * marked "fix:" where they happen.
 */
#ifndef ADC_SCHED_H
#define ADC_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sched_types.h"

#define SCHED_503_QUIET (60 * SCHED_SECOND) /* 4.3 step 2: one minute after a 503 */
/* fix (weakness 10): a container unlocked for being over quota is not re-locked this soon
 * unless an instance can take it right away. */
#define SCHED_RELOCK_COOLDOWN (300 * SCHED_SECOND)
/* fix (weakness 11): an unsatisfiable container is not re-cancelled more often than this. */
#define SCHED_CANCEL_BACKOFF (60 * SCHED_SECOND)

enum sched_status_code {
	SCHED_ST_NONE = 0,
	SCHED_ST_PREPARING,
	SCHED_ST_PRIORITY_ZERO,
	SCHED_ST_SUPERVISOR_LIMIT,
	SCHED_ST_WAITING_PREVIOUS,
	SCHED_ST_WAITING_NEW,
	SCHED_ST_AT_CAPACITY,
	SCHED_ST_AT_QUOTA,
	SCHED_ST_CLUSTER_CAPACITY,
	SCHED_ST_AT_BUDGET, /* addition (-max-hourly-spend): n = spend, type = cap, millidollars */
	/* Spot to on-demand fallback (an addition): n = enum sched_fallback (the why), except
	 * FALLBACK_AT_CAPACITY's n = queue position and type = the why. */
	SCHED_ST_FALLBACK_NEW,	       /* WAITING_NEW on a fallback type, and why */
	SCHED_ST_FALLBACK_PREPARING,   /* PREPARING on a fallback type, and why */
	SCHED_ST_FALLBACK_AT_CAPACITY, /* AT_CAPACITY over the fallback's candidates */
};

/* A scheduling status, compact: rendering 100,000 strings per pass would cost more than the pass. */
struct sched_status {
	uint8_t code; /* enum sched_status_code */
	uint32_t n; /* queue position (SUPERVISOR_LIMIT, AT_CAPACITY, AT_QUOTA, CLUSTER_CAPACITY) */
	uint32_t type; /* instance type index (WAITING_NEW) */
};

#define SCHED_STATUS_MAX 4096

/*
 * Render st for container c into buf (4.6, byte for byte; "" for NONE). AT_CAPACITY lists c's
 * candidate type names joined by ", ". Returns the length, or -ENOSPC when buf is too short
 * (SCHED_STATUS_MAX fits any status with names of reasonable length).
 */
int sched_status_format(const struct cfg_cluster *cl, const struct sched_ctr *c,
			const struct sched_status *st, char *buf, size_t len);

/* "Queued", "Locked", "Running", "Complete", "Cancelled" (as the API spells them). */
const char *sched_cstate_name(enum sched_cstate s);

enum sched_dkind {
	SCHED_D_LOCK = 1,  /* ctr */
	SCHED_D_START,	   /* ctr on worker; keep_buffers for the runner's stdin */
	SCHED_D_CREATE,	   /* an instance of type, for ctr */
	SCHED_D_UNLOCK,	   /* ctr; reason says why (requeue) */
	SCHED_D_SHUTDOWN,  /* idle/booting worker, over quota (4.2 step 9) */
	SCHED_D_KILL,	   /* ctr's runner (ctr = -1: uuid only, not in the queue) */
	SCHED_D_CANCEL,	   /* ctr */
	SCHED_D_FORGET,	   /* drop ctr from the queue cache (4.4) */
	SCHED_D_BUG_STATE, /* ctr in a state sync does not know: log once per process */
	SCHED_D_FALLBACK,  /* ctr falls back to on-demand types (reason says why): remember it
			    * (sched_ctr.fell_back) and log it; once per container */
};

enum sched_dreason {
	SCHED_R_NONE = 0,
	SCHED_R_OVERQUOTA,	    /* unlock: "unlock because pool capacity is used by higher
					 * priority containers" */
	SCHED_R_PREVIOUS_ATTEMPT,   /* kill: a runner from a previous attempt is still there */
	SCHED_R_NOT_RUNNING,	    /* cancel: "not running on any worker" */
	SCHED_R_RUNNING_AFTER_EXIT, /* cancel: "state=Running after crunch-run exited" */
	SCHED_R_PRIORITY_ZERO,	    /* kill or requeue: "priority=0" */
	SCHED_R_STATE_COMPLETE,	    /* kill: "state=Complete" */
	SCHED_R_STATE_CANCELLED,    /* kill: "state=Cancelled" */
	SCHED_R_QUEUED_BUT_RUNNING, /* kill: "pool says running, but queue says state=Queued" */
	SCHED_R_CRUNCH_RUN_EXITED,  /* requeue: "crunch-run exited" */
	SCHED_R_NOT_IN_QUEUE,	    /* kill: "not in queue" */
	SCHED_R_FINISHED,	    /* forget: "container finished -- dropping from queue" */
	SCHED_R_ON_HOLD,	    /* forget: "container on hold -- dropping from queue" */
	SCHED_R_UNSATISFIABLE,	    /* cancel: no configured type fits (weakness 1) */
	SCHED_R_STALE_LOCK,	    /* unlock after restart (2.9) */
	SCHED_R_FALLBACK_CAPACITY,  /* fallback: every preemptible candidate at capacity */
	SCHED_R_FALLBACK_ATTEMPTS,  /* fallback: earlier dispatch attempts reached the limit */
};

/* The reason's exact text (the log message or the Reason field of 4.4); "" for NONE. */
const char *sched_reason_text(enum sched_dreason r);

struct sched_decision {
	uint8_t kind;	      /* enum sched_dkind */
	uint8_t reason;	      /* enum sched_dreason */
	int32_t ctr;	      /* index into input ctrs, or -1 */
	int32_t worker;	      /* index into input workers, or -1 */
	uint32_t type;	      /* CREATE: instance type index */
	const char *uuid;     /* KILL of an uncached runner: the UUID (borrowed from the input) */
	int64_t keep_buffers; /* START: KeepBuffers for the runner (fix, weakness 4) */
};

struct sched_result {
	struct sched_decision *d;
	size_t n, cap;
	struct sched_status *status; /* per input ctr (pass only) */
	size_t n_status;
	bool rearm_soon; /* an action met a busy 4.5 slot: wake again in 250 ms */
	/* Metrics (4.2 step 6, 4.3, 4.7). */
	int64_t allocated_not_started;
	int64_t not_allocated_over_quota;
	int64_t max_concurrent_containers;
	sched_time longest_wait;
	sched_time last_503;
	/* Budget cap (addition, sched_budget.c): the hourly spend of the instances after this
	 * pass's decisions, and the cap (0: off). */
	double hourly_spend, hourly_cap;
};

void sched_result_init(struct sched_result *r);
/* Empty r for reuse (keeps the arrays). */
void sched_result_clear(struct sched_result *r);
void sched_result_free(struct sched_result *r);

/*
 * 4.3, with fix (weakness 5): containers and instances are kept apart. max_containers (a
 * container count; 0 = no limit) reacts only to the API server's 503s; instance_limit (an
 * instance count; 0 = none beyond MaxInstances) carries the quota learnt from cloud errors and
 * the InitialQuotaEstimate.
 */
struct sched_quota {
	int64_t max_containers;
	sched_time last_503;
	sched_time last_backoff; /* the 503 that last lowered max_containers (one per quiet period) */
	int64_t backoff_floor; /* no back-off below: InitialQuotaEstimate, else MaxInstances, >= 1 */
	int64_t instances_within_quota;
	int64_t instance_limit;
};

void sched_quota_init(struct sched_quota *q, const struct cfg_cluster *cl);

/* One step at the start of a pass: running = |R|, workers = N (pending creates excluded). */
void sched_quota_update(struct sched_quota *q, sched_time now, sched_time api_last_503,
			int64_t running, int64_t workers, bool at_quota);

struct sched;

/* A scheduler for one config (cl borrowed, must outlive it). 0 or -ENOMEM. */
int sched_new(const struct cfg_cluster *cl, struct sched **out);
void sched_free(struct sched *s);
struct sched_quota *sched_quota_state(struct sched *s);
/*
 * Budget cap (an addition, docs/SCHEDULER.md): no instance is created when the hourly spend of
 * the instances (every worker the pool lists, shutting down included, and pending creates; a
 * worker's price when the pool knows it, else its type's Price) plus the new one's Price would
 * exceed dollars, and idle instances are shut down, most expensive first, while the spend of
 * those not already shutting down is above it. 0 = off.
 */
void sched_set_hourly_cap(struct sched *s, double dollars);
/*
 * Spot to on-demand fallback (an addition, docs/SCHEDULER.md). A container with on-demand
 * fallback candidates (sched_ctr.n_fallback, listed by the instance-type choice when
 * -spot-fallback-price-factor is given) falls back when every preemptible candidate is at
 * capacity and no preemptible instance can take it, or, with after_attempts > 0, once its
 * earlier dispatch attempts (sched_ctr.attempts) reach after_attempts. 0 = the second rule off.
 */
void sched_set_spot_fallback(struct sched *s, unsigned after_attempts);

/*
 * One scheduling pass (4.2). Appends decisions to out (cleared first) and fills out->status
 * (one per input ctr). Returns 0, -ENOMEM (out then holds a partial list: do not act on it), or
 * -EINVAL (a type index out of range).
 */
int sched_pass(struct sched *s, const struct sched_input *in, struct sched_result *out);

/* 4.4 sync: cancel / requeue / kill / forget decisions. 0 or -ENOMEM. */
int sched_sync(const struct sched_input *in, struct sched_result *out);

/*
 * 2.9 after the wait: unlock every Locked container that is not in the running set *now*
 * (fix, weakness 2: the list is recomputed from this input, never an older one). 0 or -ENOMEM.
 */
int sched_stale_locks(const struct sched_input *in, struct sched_result *out);

#endif
