/*
 * sched_types.h - the views the scheduler reads (spec/dispatcher.md section 4): one cached
 * container as the queue sees it, one worker as the pool sees it, and one pass's whole input.
 * The pool fills struct sched_worker (pool_sched_workers) and keeps its workers' states in
 * these enums; the scheduler loop fills the rest. Types only: the decisions are in
 * scheduler.h (sched/), which the pool does not include.
 */
#ifndef ADC_SCHED_TYPES_H
#define ADC_SCHED_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "container_resources.h"

/* Times are nanoseconds on one clock chosen by the caller (wall clock: created_at is one). */
typedef int64_t sched_time;

#define SCHED_SECOND ((sched_time)1000000000)

enum sched_cstate {
	SCHED_QUEUED = 0,
	SCHED_LOCKED,
	SCHED_RUNNING,
	SCHED_COMPLETE,
	SCHED_CANCELLED,
	SCHED_CSTATE_OTHER, /* anything else the API may say */
};

/* Why a preemptible container runs on an on-demand type (spot fallback, docs/SCHEDULER.md). */
enum sched_fallback {
	SCHED_FB_NONE = 0,
	SCHED_FB_CAPACITY, /* every preemptible candidate type is at capacity */
	SCHED_FB_ATTEMPTS, /* attempts reached sched_set_spot_fallback's threshold */
};

/* The loop's memory of its own earlier decisions about one container (0 = never). Few
 * containers have one (those unlocked over quota, cancelled or fallen back lately), so it is
 * not in every sched_ctr: a container points at one by index (sched_ctr.memo). */
struct sched_memo {
	sched_time overquota_unlocked_at; /* set when an UNLOCK_OVERQUOTA was carried out */
	sched_time cancel_tried_at;	  /* set when a CANCEL was attempted */
	/* When the pass first found it Running in the queue but in no worker's list (with no
	 * worker unknown); 0 = not recorded. 4.4's "not running on any worker" waits for a queue
	 * poll that started after it, as the exited rule does: the crunch-run that the pool saw
	 * gone had finalised the container before, so a fresher poll shows it final. */
	sched_time not_running_since;
	uint8_t fell_back; /* enum sched_fallback: why it fell back in an earlier pass (the loop's
			    * memory of a SCHED_D_FALLBACK), 0: it did not */
};

/* One cached container, as the queue sees it. 72 bytes, no padding (the loop fills 100,000
 * of them per pass at scale and the pass reads them back; it was 168 with the uuid's copy
 * before the strings, the need and the memory were pointed to instead of copied, issue 16).
 * The pointers are the queue's and stay valid until the loop's next view is taken: a
 * container forgotten while the decisions are carried out is freed only then. */
struct sched_ctr {
	const char *uuid;
	int64_t priority;
	sched_time first_seen;	    /* FIFO among equal priorities (4.2 step 2) */
	sched_time created_at;	    /* for the longest-wait metric (4.7) */
	const struct res_vec *need; /* itypes_choice.need: the full vector, tmp scratch included */
	const uint32_t *types;	    /* itypes_choice.idx: candidates, cheapest first; then the
				      * n_fallback on-demand fallback candidates (spot fallback) */
	sched_time exit_time;	    /* when exited: when the runner ended */
	uint32_t n_types;	    /* 0: no configured type fits any more (weakness 1) */
	uint32_t memo;		    /* 1 + index into sched_input.memos; 0: none (all zero) */
	uint8_t state;		    /* enum sched_cstate */
	bool supervisor;	    /* scheduling_parameters.supervisor */
	bool op_in_flight;	    /* a lock/unlock/cancel/kill holds the 4.5 slot */
	/* The pool's running set R (5.10). */
	bool in_running;     /* listed by a worker, or an exited placeholder */
	bool exited;	     /* the runner ended; exit_time is when */
	bool runner_present; /* a runner for it still exists on some worker */
	/* Spot to on-demand fallback (an addition, docs/SCHEDULER.md). */
	uint8_t n_fallback; /* on-demand candidates at types[n_types ..]; 0: none (off) */
	uint8_t attempts;   /* earlier dispatch attempts (lock_count), saturating at 255 */
};
_Static_assert(sizeof(void *) != 8 || sizeof(struct sched_ctr) == 72, "sched_ctr grew");

enum sched_wstate {
	SCHED_W_UNKNOWN = 0,
	SCHED_W_BOOTING,
	SCHED_W_IDLE,
	SCHED_W_RUNNING,
	SCHED_W_SHUTDOWN,
};

enum sched_idle { SCHED_IDLE_RUN = 0, SCHED_IDLE_HOLD, SCHED_IDLE_DRAIN };

/* A runner on a worker (starting or running) and what its container was charged when placed. */
struct sched_wrun {
	const char *uuid;
	struct res_vec need; /* fix (weakness 3): the full vector, recorded at start */
	bool need_known;     /* false: adopted runner of an uncached container */
};

/* One instance, or one pending create (id NULL or ""; state booting, behaviour run). */
struct sched_worker {
	const char *id;
	uint32_t type; /* index into cluster->instance_types */
	enum sched_wstate state;
	enum sched_idle idle;
	const struct sched_wrun *run;
	uint32_t n_run;
	sched_time last_busy;
	double price; /* hourly price now: the current spot price when the cloud told it, else 0
		       * (the type's configured Price applies); for the budget cap */
	/* A spot interruption notice came (-spot-interruption-notices): the pool drained it;
	 * its runners will need a replacement (sched_spot.c). */
	bool spot_notice;
};

/* What one pass reads. Every array is borrowed for the duration of the call. */
struct sched_input {
	const struct cfg_cluster *cluster;
	sched_time now;
	const struct sched_ctr *ctrs;
	size_t n_ctrs;
	const struct sched_memo *memos; /* sched_ctr.memo indexes it */
	size_t n_memos;
	const struct sched_worker *workers; /* in any order */
	size_t n_workers;
	/* UUIDs in the running set that the queue does not know (sync kills them). */
	const char *const *running_uncached;
	size_t n_running_uncached;
	/* Pool facts (5.5). */
	bool quota_hold;	      /* learnt quota threshold or time-based hold in force */
	const bool *type_at_capacity; /* per type index: a capacity hold covers it; may be NULL */
	bool create_throttled;	      /* rate-limit or MaxConcurrentInstanceCreateOps hold-off */
	bool runner_unavailable;      /* the runner binary cannot be loaded: creates refused */
	bool any_unknown_worker;      /* for sync (4.4) */
	sched_time queue_threshold;   /* T of 2.4, for sync */
	sched_time api_last_503;      /* latest 503 the API client saw, 0 = never (4.3) */
};

/* Container c's memory of earlier decisions (all zero when it has none). */
static inline const struct sched_memo *
sched_memo_of(const struct sched_input *in, const struct sched_ctr *c)
{
	static const struct sched_memo none;

	return c->memo != 0 && c->memo <= in->n_memos ? &in->memos[c->memo - 1] : &none;
}

#endif
