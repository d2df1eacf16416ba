/*
 * pool.h - the worker pool (spec/dispatcher.md section 5): one state machine per cloud
 * instance, instance creation, the instance-list sync, probes, starting and killing
 * crunch-run, shutdown, on one libuv loop. See docs/POOL.md.
 *
 * The pool calls the cloud and the workers only through the ports of pool_ports.h. Everything
 * runs on the loop's thread. Times are unix nanoseconds (the scheduler's sched_time clock).
 */
#ifndef ADC_POOL_H
#define ADC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "config.h"
#include "metrics.h"
#include "pool_ports.h"
#include "sched_types.h"

struct pool;

/* The pool's wake-up: a worker added/removed/changed state, a hold expired. */
typedef void (*pool_on_change_fn)(void *ctx);

struct pool_opts {
	uv_loop_t *loop;
	const struct cfg_cluster *cluster; /* borrowed; must outlive the pool */
	struct pool_cloud_port cloud;
	struct pool_ssh_port ssh;
	struct metrics_registry *metrics; /* NULL: no metrics */
	pool_on_change_fn on_change;	  /* may be NULL (app/wakeups.c: who wakes whom) */
	void *on_change_ctx;
	/* The resolved runner (pool_runner_resolve): NULL/"" = no deploy; the md5 of the file
	 * when deploying (runner command crunch-run~<md5>), which the ssh adapter also holds. */
	const char *runner_md5;
	bool runner_unavailable; /* the binary could not be loaded: creates refused */
	/* -deadman-timeout (pool_deadman.c): > 0, the init command installs the watchdog. */
	int64_t deadman_timeout_ns;
	/* -spot-interruption-notices: run probes of preemptible workers also read the spot
	 * interruption notice; a worker with one is drained (pool_spot.c, docs/POOL.md). */
	bool spot_notices;
	/* Tests: a clock other than CLOCK_REALTIME (unix ns). */
	int64_t (*now)(void *ctx);
	void *now_ctx;
};

/* -deadman-timeout against the config (driver, ProbeInterval): 0, or -1 with why. */
int pool_deadman_check(const struct cfg_cloudvms *vm, int64_t timeout_ns, char *why, size_t len);

/* Create the pool and start its loops (first sync at once). 0, -ENOMEM, -EINVAL. */
int pool_new(const struct pool_opts *o, struct pool **out);
/*
 * Stop the loops; the pool frees itself once the ports have answered every outstanding call
 * (run the loop until then). Instances are left as they are (a restart adopts them).
 */
void pool_close(struct pool *p);

int64_t pool_now(const struct pool *p);

/* The first sync has completed ("loaded initial instance list"). */
bool pool_loaded(const struct pool *p);
/*
 * The cloud port takes calls again (cloudd became ready, at start-up or after a restart): if
 * the latest sync failed (the port refused it while cloudd was down), sync now rather than
 * SyncInterval later, so that scheduling does not wait a whole SyncInterval at start-up.
 */
void pool_cloud_ready(struct pool *p);

/* ------------------------------------------------------------ scheduler's actions */

/* 5.5: ask for an instance of type index t. true: accepted (a pending create now exists). */
bool pool_create(struct pool *p, uint32_t t);

/*
 * 5.9: start ctr uuid on worker id (idle or running, behaviour run). need is the resource
 * vector the scheduler charged (kept for the placement views), keep_buffers the KeepBuffers
 * value (< 0: LocalKeepBlobBuffersPerVCPU x VCPUs), created_at the container's created_at
 * (for the queue-to-crunch-run summary). true: accepted.
 */
bool pool_start(struct pool *p, const char *id, const char *uuid, const struct res_vec *need,
		int64_t keep_buffers, int64_t created_at);

/* 5.11: start the SIGTERM series for uuid's runner. true: a runner exists. */
bool pool_kill_container(struct pool *p, const char *uuid, const char *reason);

/* 5.10: drop uuid's "exited" placeholder (the scheduler's forget). */
void pool_forget_exited(struct pool *p, const char *uuid);

/* 5.5: the scheduler's over-quota shutdown of a booting/idle worker not on hold. */
bool pool_shutdown_worker(struct pool *p, const char *id);

/* 5.5: the management API's instance actions. 0, or POOL_NOT_FOUND (no such instance). */
#define POOL_NOT_FOUND 1
int pool_kill_instance(struct pool *p, const char *id, const char *reason);
int pool_set_idle_behavior(struct pool *p, const char *id, enum sched_idle b);

/* ------------------------------------------------------------ scheduler's views */

/*
 * The scheduler's worker list: one entry per worker and per pending create. Arrays are owned
 * by the pool and valid until the next call that may change the pool (return to the loop).
 */
int pool_sched_workers(struct pool *p, const struct sched_worker **out, size_t *n);

/* Running set (5.10) lookup for one container, computed now (fix, weakness 2). */
struct pool_ctr_state {
	bool in_running; /* runner on a worker, or an exited placeholder */
	bool exited;
	int64_t exit_time;
	bool runner_present; /* starting or running on some worker */
};
void pool_container_state(const struct pool *p, const char *uuid, struct pool_ctr_state *st);
/*
 * The same for n containers at once: st[i] is pool_container_state(uuids[i]). One sort of the
 * pool's runners and exited placeholders, then a binary search each, so a pass over 100,000
 * queued containers and 10,000 workers costs O((n + runners) log) instead of O(n x workers)
 * (found by bench/e2e: 4.4 s per scheduling pass). 0 or -ENOMEM.
 */
int pool_container_states(const struct pool *p, const char *const *uuids, size_t n,
			  struct pool_ctr_state *st);

/* A container some worker has: a runner, or an exited placeholder. uuid is NUL-padded. */
#define POOL_UUID_KEY 64
struct pool_uuid_state {
	char uuid[POOL_UUID_KEY];
	struct pool_ctr_state st;
};
/*
 * Every container with a runner or an exited placeholder, once each, with pool_container_state's
 * answer for it: a pass looks these few up by uuid instead of asking for every queued container
 * (issue 16: two arrays the size of the queue, 32 bytes a container, were rewritten on every
 * turn). *out is the pool's, valid until the next call. 0 or -ENOMEM.
 */
int pool_runner_states(struct pool *p, const struct pool_uuid_state **out, size_t *n);

/* Every UUID in the running set, for sched_input.running_uncached (borrowed, same lifetime
 * as pool_sched_workers). */
int pool_running_uuids(struct pool *p, const char *const **out, size_t *n);

/* 5.5 pool facts. type_at_capacity: an array of n_instance_types, owned by the pool. */
bool pool_at_quota(const struct pool *p);
const bool *pool_type_at_capacity(struct pool *p);
bool pool_create_throttled(const struct pool *p);
bool pool_runner_unavailable(const struct pool *p);
size_t pool_count_unknown(const struct pool *p);

/* ------------------------------------------------------------ instance views */

/* The instance views of 5.1 (a cJSON array; [] when empty). NULL on ENOMEM. */
cJSON *pool_instances_json(struct pool *p);
/*
 * The same views, byte for byte, a slice at a time (the management API renders them in
 * several loop turns): open takes a snapshot of the instance IDs and
 * pending creates (*n rows), entry builds row i's view from the worker as it is now (*out
 * NULL: it is gone since the snapshot), close frees the snapshot. 0 or -ENOMEM.
 */
struct pool_snap;
int pool_instances_open(struct pool *p, struct pool_snap **snap, size_t *n);
int pool_instances_entry(struct pool *p, const struct pool_snap *snap, size_t i, cJSON **out);
void pool_instances_close(struct pool_snap *snap);

/* ------------------------------------------------------------ runner binary */

/*
 * DeployRunnerBinary at start-up (spec 5.8, design "Runner binary"): "" -> "" (no deploy);
 * "/proc/self/exe" (the reference's default: the dispatcher itself, not crunch-run here) ->
 * the first executable "crunch-run" on path_env (PATH; NULL = getenv("PATH")); any other value
 * is kept. 0 with *out (malloc'd), -ENOENT with a message in err naming the key, -ENOMEM.
 */
int pool_runner_resolve(const char *configured, const char *path_env, char **out, char *err,
			size_t errlen);

/* The instance type object of spec 5.9 (ProviderType ... GPU{Stack, DriverVersion,
 * HardwareTarget, DeviceCount, VRAM}; no Name, no Scratch), as sent to crunch-run and shown
 * in the management API's queue entries. NULL on ENOMEM. */
cJSON *pool_itype_json(const struct cfg_instance_type *it);

#endif
