/*
 * pool_fake.h - a fake cloud and fake workers behind the pool's ports, on a real libuv loop,
 * and a harness that builds a pool from a YAML config with short timeouts.
 *
 * Every fake call answers on a later loop iteration (a 0 ms timer), as the port contract
 * requires. The log goes to a temporary file that tests search for exact messages.
 */
#ifndef POOL_FAKE_H
#define POOL_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "metrics.h"
#include "pool.h"

#define FK_MAX_INST 64
#define FK_MAX_TAGS 16
#define FK_MAX_OPS  512

struct fk_inst {
	bool used;
	char id[32], address[32];
	char tk[FK_MAX_TAGS][64], tv[FK_MAX_TAGS][128];
	size_t n_tags;
	/* Worker behaviour. */
	bool boot_ok, run_ok, verify_ok, deploy_ok, start_ok, kill_ok;
	int deploy_refuse;  /* <0: the deploy call is refused with it (as the port does while
			      sshd-pool restarts: -EAGAIN), no callback */
	char list_out[512]; /* crunch-run --list stdout */
	int kills, starts, run_probes, boot_probes, deploys, destroys;
	/* Spot checks: how many run probes asked for one, and the line the worker prints for
	 * it ("": the "adc-spot action  404" of a worker without a notice). */
	int spot_checks;
	char spot_line[256];
	int destroys_to_vanish; /* gone from the list after this many destroys (0: 1) */
	char last_payload[8192];
	bool hang_run_probe;	 /* never answer a run probe (weakness 6) */
	int boot_probe_delay_ms; /* the boot probe is answered this late (a slow worker) */
};

struct fk {
	uv_loop_t *loop;
	struct fk_inst inst[FK_MAX_INST];
	int next_id;
	/* Scripted create errors, consumed in order. */
	struct pool_cloud_err create_errs[8];
	int n_create_errs;
	struct pool_cloud_err list_err; /* one-shot */
	char last_init[8192];	     /* the watchdog of -deadman-timeout makes it ~1.3 kB longer */
	char last_create_tags[1024]; /* "k=v;" list */
	bool last_with_key;
	int destroy_calls;   /* destroy and destroy_many calls (one each, whatever the ids) */
	int destroy_max_ids; /* the most ids one call carried */
	/* Ordered record of cloud calls: 'C'reate, 'L'ist, 'D'estroy (one per call), 'T'ags. */
	char ops[FK_MAX_OPS];
	int n_ops;
	int creates_in_flight, max_creates_in_flight;
	int create_delay_ms;
	int outstanding;
	int start_delay_ms;
	uv_timer_t *last_timer;
	uv_timer_t *hung[8];
	int n_hung;
	/* Defaults for new instances. */
	bool dflt_boot_ok;
	char quota_group[32];
};

struct fk_harness {
	uv_loop_t loop;
	struct fk fk;
	struct cfg_cluster *cl;
	struct metrics_registry *metrics;
	struct pool *pool;
	int changes;		    /* pool on_change wake-ups */
	int64_t deadman_timeout_ns; /* fk_params.deadman_ms, for every pool started */
	bool spot_notices;	    /* the next fk_start_pool's pool_opts.spot_notices */
	int log_fd, saved_stderr;
	char log_path[64];
};

/* Params that vary between tests (ms; 0 = a test default). */
struct fk_params {
	int boot, probe, idle, shutdown, term, signal, stale, probe_interval, sync_interval;
	int max_instances, max_create_ops;
	double cloud_ops_rate, probes_rate;
	const char *extra_types; /* appended under InstanceTypes */
	const char *runner_md5;
	int deadman_ms;	   /* -deadman-timeout; 0: off */
	bool spot_notices; /* pool_opts.spot_notices */
};

void fk_init(struct fk *f, uv_loop_t *loop);
struct pool_cloud_port fk_cloud_port(struct fk *f);
struct pool_ssh_port fk_ssh_port(struct fk *f);
struct fk_inst *fk_find(struct fk *f, const char *id);
/* Add an instance directly to the cloud (as left behind by a previous dispatcher). */
struct fk_inst *
fk_add(struct fk *f, const char *type, const char *idle, const char *secret, const char *set_id);
const char *fk_tag(const struct fk_inst *i, const char *key);
int fk_count_live(const struct fk *f);

int fk_setup(struct fk_harness *h, const struct fk_params *p);
/* Start a (new) pool over the same fake cloud. */
int fk_start_pool(struct fk_harness *h, const char *runner_md5);
/* Close the pool and run the loop until it is freed. */
void fk_stop_pool(struct fk_harness *h);
void fk_teardown(struct fk_harness *h);

/* Run the loop until pred(h, arg) or timeout_ms (real time); returns pred's last value. */
bool fk_run_until(struct fk_harness *h, bool (*pred)(struct fk_harness *, void *), void *arg,
		  int timeout_ms);
/* Run the loop for about ms. */
void fk_run_for(struct fk_harness *h, int ms);

/* The captured log contains an entry whose msg is exactly msg. */
bool fk_log_has(struct fk_harness *h, const char *msg);
/* The captured log contains this exact substring anywhere. */
bool fk_log_contains(struct fk_harness *h, const char *s);
int fk_log_count(struct fk_harness *h, const char *msg);
void fk_log_reset(struct fk_harness *h);

/* Worker state and behaviour via the instance views ("" when absent). */
const char *fk_state(struct fk_harness *h, const char *id, const char **idle);

#endif
