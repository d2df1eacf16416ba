/*
 * queue_internal.h - what the queue_*.c files share. Not for other modules.
 */
#ifndef ADC_QUEUE_INTERNAL_H
#define ADC_QUEUE_INTERNAL_H

#include <cjson/cJSON.h>

#include "queue.h"
#include "container_resources.h"
#include "log.h"
#include "api_client.h"

/* Open-addressing hash map uuid -> entry (linear probing, backward-shift deletion). */
struct queue_map {
	struct queue_ent **slot;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

/* queue_intern.c: records shared by the entries whose content is the same (the selected
 * attributes, the instance-type choice). A record starts with this header; its content is the
 * len bytes from off on (allocated zeroed: padding is compared too). */
struct queue_intern;
struct queue_shared {
	struct queue_shared *next; /* in its set's bucket */
	struct queue_intern *set;  /* NULL: not shared (a detached entry's) */
	uint64_t hash;
	uint32_t refs, len;
};
struct queue_intern {
	struct queue_shared **bucket;
	size_t cap, n; /* cap: a power of two, or 0 */
};
/* The set's record with r's content, one more reference on it (r freed), or r itself, added
 * with one reference; set NULL: r with one reference, not shared. NULL on ENOMEM (r freed). */
struct queue_shared *
queue_intern(struct queue_intern *set, struct queue_shared *r, size_t off, uint32_t len);
void queue_unshare(struct queue_shared *r);	  /* drops a reference; NULL is fine */
void queue_intern_free(struct queue_intern *set); /* once no entry holds one of its records */

/* A condition logged once until it changes (one log line per condition, not per poll). */
struct queue_cond {
	bool active;
	int64_t key;	/* what kind of failure: errno and HTTP status */
	uint64_t count; /* occurrences while active */
};

/* The poll in flight (queue_poll.c). */
enum queue_step { QSTEP_IDLE = 0, QSTEP_IDENTITY, QSTEP_MINE, QSTEP_AVAIL, QSTEP_MISSING };

struct queue_poll {
	enum queue_step step;
	uint32_t gen;
	uint64_t started_wall_ms, started_mono_ms;
	char after[QUEUE_UUID_MAX];	 /* uuid paging cursor; "" on the first page */
	char (*missing)[QUEUE_UUID_MAX]; /* step C: the uuids to re-fetch */
	size_t n_missing, missing_pos, batch_len;
	bool *batch_seen;
	uint64_t requests;
	bool again; /* queue_poll_now while running */
};

struct queue {
	uv_loop_t *loop;
	struct api_client *api;
	const struct cfg_cluster *cluster;
	const struct itypes_table *itypes;
	unsigned mounts_concurrency, list_limit, mounts_batch;
	bool select_lock_count;
	uint64_t poll_interval_ms;

	struct queue_map map;
	struct queue_intern recs;    /* queue_rec.c */
	struct queue_intern choices; /* queue_choice.c */
	/* The sorted view (queue_view.c), kept in order between changes: a removed or moved
	 * entry leaves a hole (NULL), a new or moved one waits in view_new to be placed. */
	struct queue_ent **view, **view_tmp, **view_new;
	size_t view_n, view_cap, view_holes;
	size_t n_new, cap_new;
	bool view_lost; /* an entry could not be listed in view_new: rebuild from the map */

	char *identity;
	struct queue_poll poll;
	uint64_t threshold_ms;
	uint64_t polls_ok, polls_failed, consecutive_failures;
	uint64_t last_poll_duration_ms, last_poll_requests;
	bool started, closing;
	struct queue_life *life; /* shared with in-flight callbacks */
	/* Entries removed (polled away or forgotten) and not yet freed: queue_reap frees them
	 * (queue.h). Linked through mq_next, which the mounts FIFO no longer uses for them. */
	struct queue_ent *removed;

	uv_timer_t poll_timer;
	uv_timer_t mounts_timer;
	uv_async_t wake;
	int open_handles;
	void (*closed)(void *arg);
	void *closed_arg;
	queue_on_change_fn on_change;
	void *on_change_ctx;
	void (*poll_cb)(void *arg, bool ok);
	void *poll_cb_arg;

	/* mounts fetches (queue_mounts.c) */
	struct queue_ent *mq_head, *mq_tail;
	size_t mq_len, mounts_in_flight, unsatisfiable;
	uint64_t mounts_hold_until; /* monotonic ms: back-off after failures */
	unsigned mounts_failures;

	struct queue_cond poll_err, mounts_err, record_err;
};

/* Lets callbacks of requests still in flight after queue_free find out (q == NULL). */
struct queue_life {
	struct queue *q;
	size_t refs;
};

/* A request in flight: a reference on the queue's life and the uuid it is about. */
struct queue_req {
	struct queue_life *life;
	char uuid[QUEUE_UUID_MAX];
	enum queue_op op;
	queue_op_cb cb;
	void *arg;
	char *text;
};

/* queue.c */
uint64_t queue_mono_ms(void);
uint64_t queue_wall_ms(void);
void queue_changed(struct queue *q); /* wake the subscriber: on_change (coalesced) */
struct queue_req *queue_req_new(struct queue *q, const char *uuid, enum queue_op op);
/* The queue a finished request belongs to, or NULL when it was freed meanwhile. */
struct queue *queue_req_queue(const struct queue_req *r);
/* Drop the life reference and free r. */
void queue_req_free(struct queue_req *r);

/* queue_map.c */
uint64_t queue_map_hash(const char *uuid);
struct queue_ent *queue_map_get(const struct queue_map *m, const char *uuid, uint64_t h);
int queue_map_put(struct queue_map *m, struct queue_ent *e);
void queue_map_del(struct queue_map *m, struct queue_ent *e);
void queue_map_free(struct queue_map *m);

/* queue_ent.c */
struct queue_ent *queue_ent_new(struct queue *q, const char *uuid);
/* Unlink from the map, the view and the mounts FIFO; freed by the next queue_reap. */
void queue_ent_remove(struct queue *q, struct queue_ent *e);
void queue_ent_free(struct queue_ent *e);
void queue_ent_set_none(struct queue *q, struct queue_ent *e, const char *why);

/* queue_view.c: the entry joins, leaves, or changes place in the priority order. */
void queue_view_add(struct queue *q, struct queue_ent *e);
void queue_view_drop(struct queue *q, struct queue_ent *e);
void queue_view_moved(struct queue *q, struct queue_ent *e); /* its priority changed */

/* queue_rec.c: the selected attributes kept for the management API. The entry's record from
 * item, shared with the other entries of set whose records are the same (set NULL: the entry's
 * own); 0 or -ENOMEM (the entry keeps its old one). */
int queue_rec_update(struct queue_intern *set, struct queue_ent *e, const cJSON *item);
void queue_rec_free(struct queue_ent *e); /* drops the entry's reference */

/* queue_choice.c: the entry's instance-type choice, shared with the other entries of set that
 * have the same (c's candidate list is freed). 0, or -ENOMEM (the entry keeps its old one). */
int queue_choice_set(struct queue_intern *set, struct queue_ent *e, struct itypes_choice *c);
void queue_choice_clear(struct queue_ent *e); /* back to queue_no_choice */

/* queue_cond.c: log once per condition. */
/* A failure of kind key (queue_cond_key): logged when the condition starts or changes kind,
 * counted otherwise; uuid (may be NULL) is the container the failed request was about, sent
 * as ContainerUUID. Returns true when it logged. */
bool queue_cond_fail(struct queue_cond *c, int64_t key, enum log_level lvl, const char *msg,
		     const char *err, const char *uuid);
/* The condition is over: one info line (msg, with the count) if it was active. */
void queue_cond_ok(struct queue_cond *c, const char *msg);
int64_t queue_cond_key(int err, long status);

/* queue_apply.c */
enum queue_src { QSRC_MINE, QSRC_AVAIL, QSRC_MISSING };
/* Apply one list item (2.4); 0, or -ENOMEM. Items without a usable uuid are skipped. */
int queue_apply_item(struct queue *q, const cJSON *item, enum queue_src src);
/* Copy state, priority, locked_by_uuid from a lock/unlock/cancel response (2.6). */
void queue_apply_op_response(struct queue *q, struct queue_ent *e, const cJSON *body);
/* Compute the choice from the saved requirements plus mounts; sets fit. */
void queue_apply_choose(struct queue *q, struct queue_ent *e);
/* The answer of GET containers/<uuid> select=["mounts"] (2.5): sets fit. */
void queue_apply_mounts(struct queue *q, struct queue_ent *e, const cJSON *body);

/* queue_spec.c: the requirements of a container kept while its mounts are fetched. */
uint64_t queue_spec_hash(const cJSON *record);
void *queue_spec_save(const struct ctres *r);
const struct ctres *queue_spec_get(const void *saved);

/* queue_mounts.c */
void queue_mounts_enqueue(struct queue *q, struct queue_ent *e);
void queue_mounts_unlink(struct queue *q, struct queue_ent *e);
void queue_mounts_kick(struct queue *q);

/* queue_cancel.c */
void queue_cancel_unsat_maybe(struct queue *q, struct queue_ent *e);

/* queue_poll.c */
void queue_poll_schedule(struct queue *q, uint64_t delay_ms);
void queue_poll_free(struct queue *q);

/* queue_ops.c: the requests of 2.6. */
enum queue_call { QCALL_LOCK, QCALL_UNLOCK, QCALL_CANCEL, QCALL_RUNTIME_ERROR, QCALL_STATE };
/* Send one call about uuid; cb(arg, result) as api_call. 0 or api_call's errors. */
int queue_ops_send(struct queue *q, const char *uuid, enum queue_call call, const char *text,
		   api_cb cb, void *arg);

#endif
