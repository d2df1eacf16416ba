/*
 * pool_internal.h - the pool's records, shared by the pool_*.c files. Not for other modules.
 *
 * Lifetimes: a worker or runner that an outstanding port call refers to is kept (refs > 0)
 * after it leaves the pool ("removed"/"closed"), and freed when the last call returns. The
 * pool itself is freed by pool_close() once no call is outstanding and its timers are closed.
 */
#ifndef ADC_POOL_INTERNAL_H
#define ADC_POOL_INTERNAL_H

#include <sys/types.h>

#include "log.h"
#include "pool.h"

#define POOL_NS_PER_MS	     1000000LL
#define POOL_SECOND	     1000000000LL
#define POOL_QUOTA_TTL	     (60 * POOL_SECOND)
#define POOL_CAPACITY_TTL    (60 * POOL_SECOND)
#define POOL_CREATE_OPS_HOLD (5 * POOL_SECOND)
#define POOL_UUID_MAX	     64
#define POOL_SECRET_HEX	     40

struct pool_worker;

/* The per-worker log fields (9: Instance, InstanceType, Address). */
#define POOL_WF(w)                                                                                 \
	LF_STR("Instance", (w)->id), LF_STR("InstanceType", (w)->type_name ? (w)->type_name : ""), \
		LF_STR("Address", (w)->address ? (w)->address : ""),                               \
		LF_STR("WorkerState", pool_state_name((w)->state))

struct pool_runner {
	struct pool_worker *w; /* NULL once closed (ended or abandoned) */
	char uuid[POOL_UUID_MAX];
	bool running; /* false: still "starting" */
	struct res_vec need;
	bool need_known;
	bool killing, given_up;
	int64_t kill_start, next_signal;
	char *kill_reason;
	bool kill_in_flight;	       /* a --kill call is outstanding */
	int refs;		       /* the worker's, plus outstanding calls */
	struct pool_runner *kill_next; /* pool's list of runners being killed */
};

struct pool_worker {
	struct pool *p;
	char *id, *address, *user, *secret;
	char *host_key;	       /* from the driver (pool_instance.host_key), or NULL */
	char **tag_k, **tag_v; /* tags as last listed (or as created) */
	size_t n_tags;
	struct pool_price *prices;
	size_t n_prices;
	uint32_t type; /* index into cluster->instance_types, if type_known */
	bool type_known;
	bool probing;
	bool boot_reported;
	bool verified;	 /* the ssh session is verified for the current address */
	char *type_name; /* the InstanceType tag (placeholder type's only field) */
	enum sched_wstate state;
	enum sched_idle idle;
	int64_t appeared, probed, updated, busy, destroyed, first_ssh;
	int64_t first_destroy; /* fix (weakness 13): first destroy attempt */
	char last_uuid[POOL_UUID_MAX];
	struct pool_runner **run; /* starting and running runners */
	size_t n_run, cap_run;
	int64_t probe_started;
	int64_t stale_since; /* 0 = no stale lock seen */
	/* Spot interruption notice (pool_spot.c): action and time once seen (NULL: none; no
	 * more spot checks then), when the pool saw it, the last check's outcome (for logging
	 * a change once, not every probe). */
	char *spot_action, *spot_time;
	int64_t spot_seen;
	uint8_t spot_last; /* enum pool_spot_kind */
	/* Tag writes (weakness 18: coalesced, one outstanding per worker). */
	bool tags_queued;
	bool removed;
	bool destroy_queued; /* in pool.dq, waiting for the next destroy call */
	enum sched_idle tags_written_idle;
	int64_t tags_written_at;
	int refs;
	size_t idx;		   /* position in p->workers */
	struct pool_worker *hnext; /* hash chain */
};

struct pool_pending {
	char secret[POOL_SECRET_HEX + 1];
	uint32_t type;
	int64_t since;
};

struct pool_exited {
	char uuid[POOL_UUID_MAX];
	int64_t at;
};

struct pool_hold {
	char *key;
	int64_t until;
};

/* One cloud call waiting for the MaxCloudOpsPerSecond ticker. */
struct pool_cloudop {
	struct pool_cloudop *next;
	void (*run)(struct pool *p, struct pool_cloudop *op);
	void (*drop)(struct pool *p, struct pool_cloudop *op); /* pool closing */
};

struct pool {
	struct pool_opts o;
	const struct cfg_cluster *cl;
	const struct cfg_cloudvms *vm;
	char set_id[64];
	char *key_set_id, *key_type, *key_idle, *key_secret; /* prefixed tag keys */
	/* Workers: array for iteration, hash for lookup by instance ID. */
	struct pool_worker **workers;
	size_t n_workers, cap_workers;
	struct pool_worker **hash;
	size_t hash_size;
	struct pool_pending *pending;
	size_t n_pending, cap_pending;
	struct pool_exited *exited;
	size_t n_exited, cap_exited;
	/* 5.5 holds. */
	int64_t quota_until;	 /* time-based quota hold */
	int64_t quota_threshold; /* "fewer instances" threshold; 0 = none */
	struct pool_hold *cap_holds;
	size_t n_cap_holds;
	int64_t create_ops_until; /* MaxConcurrentInstanceCreateOps hold-off */
	int64_t create_throttle_until, list_throttle_until; /* rate-limit errors */
	bool *at_capacity;				    /* per type, for the scheduler */
	/* Cloud-ops ticker (MaxCloudOpsPerSecond). */
	struct pool_cloudop *ops_head, *ops_tail, *tags_head, *tags_tail;
	/* Workers to destroy in the next call (pool_shutdown.c): one call per pass. */
	struct pool_worker **dq;
	size_t dq_n, dq_cap;
	bool dq_queued; /* a destroy op is in the ops queue */
	int64_t ops_next_ok;
	/* Probe round. */
	char **round;
	size_t n_round, round_pos;
	int64_t probe_next_ok;
	bool round_owed; /* a ProbeInterval tick came while a round was going: next at its end */
	uint64_t rounds; /* rounds started (tests) */
	/* Killing runners. */
	struct pool_runner *kills;
	/* Timers. */
	uv_timer_t sync_timer, probe_timer, pace_timer, ops_timer, kill_timer, hold_timer;
	int open_handles;
	bool syncing;
	bool loaded;
	bool sync_failed; /* the latest sync failed: pool_cloud_ready retries it */
	bool closing;
	int calls; /* outstanding port calls */
	/* Views for the scheduler. */
	struct sched_worker *sw;
	struct sched_wrun *swr;
	const char **uuids;
	struct pool_uuid_state *rstates; /* pool_runner_states */
	size_t cap_rstates;
	/* Metrics. */
	struct metric_family *m_ops, *m_boot, *m_disappeared, *m_ssh, *m_ready, *m_gone, *m_q2cr,
		*m_probe_dur, *m_running, *m_age_max, *m_age_med, *m_total, *m_price, *m_vcpus,
		*m_mem, *m_at_quota, *m_spot;
};

/* pool.c */
void pool_changed(struct pool *p);
void pool_call_begin(struct pool *p);
/* Account for a returned call; true when the pool is closing (the caller only releases). */
bool pool_call_end(struct pool *p);
void pool_maybe_free(struct pool *p);
const struct cfg_instance_type *pool_itype(const struct pool *p, const struct pool_worker *w);
uint32_t pool_ms(int64_t ns);
uint32_t pool_ssh_timeout_ms(const struct pool *p);

/* pool_probe.c */
/* "ssh port refused the call: <strerror(-rc)>" into buf (a call refused before it was sent,
 * e.g. -EAGAIN while sshd-pool restarts): the failed operation's message. Returns buf. */
const char *pool_refused_why(char *buf, size_t len, int rc);

/* pool_worker.c */
struct pool_worker *pool_worker_find(const struct pool *p, const char *id);
struct pool_worker *pool_worker_add(struct pool *p, const char *id);
void pool_worker_remove(struct pool *p, struct pool_worker *w);
void pool_worker_ref(struct pool_worker *w);
void pool_worker_unref(struct pool_worker *w);
const char *pool_state_name(enum sched_wstate s);
const char *pool_idle_name(enum sched_idle b);
int pool_idle_parse(const char *s, enum sched_idle *b);
int pool_worker_set_instance(struct pool_worker *w, const struct pool_instance *inst);
void pool_boot_outcome(struct pool_worker *w, const char *outcome);

/* pool_tags.c */
int pool_tags_init(struct pool *p);
const char *pool_tag_get(const struct pool_instance *inst, const char *key);
const char *pool_worker_tag(const struct pool_worker *w, const char *key);
void pool_tags_save(struct pool_worker *w);
int pool_tags_for_create(const struct pool *p, uint32_t type, const char *secret,
			 struct pool_tag **out, size_t *n);

/* pool_throttle.c */
void pool_cloudop_submit(struct pool *p, struct pool_cloudop *op, bool low_priority);
/* The same, but run no sooner than the next loop iteration, after the current pass. */
void pool_cloudop_submit_later(struct pool *p, struct pool_cloudop *op);
void pool_cloudops_tick(uv_timer_t *t);
void pool_cloudops_drop_all(struct pool *p);
void pool_throttle_error(struct pool *p, int64_t *until, const struct pool_cloud_err *err,
			 const char *call_type);
void pool_holds_rearm(struct pool *p);
void pool_hold_timer_cb(uv_timer_t *t);
void pool_count_op(struct pool *p, const char *op, bool error);

/* pool_deadman.c: the watchdog's part of the init command (malloc'd; NULL on ENOMEM), and
 * its check period in seconds (a fifth of the timeout, 1 s to 60 s). */
char *pool_deadman_script(int64_t timeout_ns);
int64_t pool_deadman_period_s(int64_t timeout_ns);

/* pool_create.c */
bool pool_capacity_blocked(struct pool *p, uint32_t t);
ssize_t pool_pending_find(const struct pool *p, const char *secret);
void pool_pending_remove(struct pool *p, size_t i);

/* pool_sync.c */
void pool_sync_timer_cb(uv_timer_t *t);
/* A new worker for a listed (or just created) instance, as 5.6 "New worker": booting with
 * pend's type and secret when it matches a pending create. NULL on ENOMEM. */
struct pool_worker *
pool_sync_add(struct pool *p, const struct pool_instance *inst, const struct pool_pending *pend);

/* pool_probe.c */
void pool_probe_timer_cb(uv_timer_t *t);
void pool_pace_timer_cb(uv_timer_t *t);
void pool_probe_worker(struct pool_worker *w);

/* pool_runner.c */
struct pool_runner *pool_runner_find(const struct pool_worker *w, const char *uuid);
struct pool_runner *pool_runner_add(struct pool_worker *w, const char *uuid, bool running);
void pool_runner_ended(struct pool_runner *r);
void pool_runner_abandon_all(struct pool_worker *w);
void pool_runner_unref(struct pool_runner *r);
void pool_kill_timer_cb(uv_timer_t *t);
void pool_exited_add(struct pool *p, const char *uuid);

/* pool_payload.c */
char *pool_start_payload(const struct pool *p, const struct pool_worker *w, const char *uuid,
			 int64_t keep_buffers);
char *pool_prices_json(const struct pool_worker *w);
void pool_gateway_address(const char *addr, char *buf, size_t len);

/* pool_shutdown.c */
void pool_worker_shutdown(struct pool_worker *w);
bool pool_shutdown_if_idle(struct pool_worker *w);
void pool_destroy(struct pool_worker *w);

/* pool_spot.c */
struct pool_spot;
/* Whether w's next run probe should do the spot check. */
bool pool_spot_wanted(const struct pool_worker *w);
/* A spot check's outcome: a notice drains w (once), the rest is logged when it changes. */
void pool_spot_apply(struct pool_worker *w, const struct pool_spot *s);

/* pool_metrics.c */
void pool_metrics_init(struct pool *p);
void pool_metrics_update(struct pool *p);
void pool_metrics_observe(struct pool *p, struct metric_family *f, const char *label, double v);

#endif
