/*
 * pool_ports.h - the worker pool's two dependencies, as small tables of function pointers.
 *
 * The pool (pool.h) never talks to cloudd or sshd-pool directly: it calls a "cloud port" and
 * an "ssh port". The production adapters wrap the proto glue (cloudd's client, sshc.h); the
 * tests implement both ports in memory on the same libuv loop.
 *
 * Rules common to both ports:
 *   - every asynchronous call returns 0 and later calls cb exactly once, never from inside the
 *     call (the pool relies on that to keep its state consistent); or returns a negative errno
 *     and never calls cb (the pool treats that as an immediate failure);
 *   - everything passed to a call is borrowed for the duration of the call only (copy what you
 *     keep); everything passed to a callback is borrowed for the duration of the callback.
 */
#ifndef ADC_POOL_PORTS_H
#define ADC_POOL_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- cloud port */

struct pool_tag {
	const char *key;
	const char *value;
};

struct pool_price {
	int64_t start_time; /* unix time, nanoseconds */
	double price;
};

/* One instance as the driver lists it (or as create returns it). */
struct pool_instance {
	const char *id;
	const char *address;	 /* "" while the cloud has not assigned one */
	const char *remote_user; /* login for SSH; "" = the driver's default (root) */
	const char *host_key;	 /* the driver vouches for this host key (loopback;
					 * spec 5.13 b), or NULL / "" (verify the secret) */
	const struct pool_tag *tags;
	size_t n_tags;
	const struct pool_price *prices; /* spot price history, may be empty */
	size_t n_prices;
};

/* The classes of driver error the pool reacts to (5.5). */
enum pool_cloud_err_kind {
	POOL_CLOUD_OK = 0,
	POOL_CLOUD_RATE_LIMIT, /* retry_at says when calls may resume */
	POOL_CLOUD_QUOTA,      /* account-wide instance quota */
	POOL_CLOUD_CAPACITY,   /* no capacity: per type, per quota group, or for all */
	POOL_CLOUD_OTHER,
};

struct pool_cloud_err {
	enum pool_cloud_err_kind kind;
	int64_t retry_at;	   /* RATE_LIMIT: unix ns of the earliest retry (0: none) */
	bool type_specific;	   /* CAPACITY: only this instance type */
	bool quota_group_specific; /* CAPACITY: only this type's quota group */
	const char *message;	   /* for the logs; never NULL */
};

struct pool_create_req {
	const char *instance_type; /* Arvados type name */
	const char *provider_type;
	bool preemptible;
	const char *image_id;
	const struct pool_tag *tags; /* 5.4 tags plus ResourceTags */
	size_t n_tags;
	const char *init_command; /* exact text of 5.5 step 4 (holds the instance secret) */
	bool with_public_key;	  /* DeployPublicKey: the adapter adds the dispatcher's key */
};

/* inst is NULL unless err->kind == POOL_CLOUD_OK. */
typedef void (*pool_create_cb)(void *arg, const struct pool_cloud_err *err,
			       const struct pool_instance *inst);
typedef void (*pool_list_cb)(void *arg, const struct pool_cloud_err *err,
			     const struct pool_instance *list, size_t n);
typedef void (*pool_cloud_done_cb)(void *arg, const struct pool_cloud_err *err);

typedef void (*pool_destroy_many_cb)(void *arg, const struct pool_cloud_err *err, size_t n,
				     const struct pool_cloud_err *errs);
/* Ids per destroy_many: half of TerminateInstances' 1,000 (the proto and the API allow 1,000),
 * because AWS meters terminations with a 1,000-token resource bucket (20/s) and cloudd's pacer
 * keeps a reserve below that: a 1,000-id call needs more than its bucket can hold and waits
 * for another EC2 call to wake the pacer (docs/POOL.md). */
#define POOL_DESTROY_BATCH 500u

struct pool_cloud_port {
	void *ctx;
	int (*create)(void *ctx, const struct pool_create_req *req, pool_create_cb cb, void *arg);
	/* Instances carrying tag key = value (the InstanceSetID filter). */
	int (*list)(void *ctx, const char *tag_key, const char *tag_value, pool_list_cb cb,
		    void *arg);
	int (*destroy)(void *ctx, const char *id, pool_cloud_done_cb cb, void *arg);
	/* Several instances in one call (EC2: one TerminateInstances), n in
	 * 2..POOL_DESTROY_BATCH; cb gets the call's outcome and one per id, in the order of ids
	 * (errs NULL, n 0 when the call failed as a whole). May be NULL: one destroy each. */
	int (*destroy_many)(void *ctx, const char *const *ids, size_t n, pool_destroy_many_cb cb,
			    void *arg);
	/* Replace the instance's whole tag map. */
	int (*set_tags)(void *ctx, const char *id, const struct pool_tag *tags, size_t n,
			pool_cloud_done_cb cb, void *arg);
	/* The driver's quota group of a provider type (synchronous, no I/O); "" when the driver
	 * has none. The returned string must stay valid until the next call. */
	const char *(*quota_group)(void *ctx, const char *provider_type, bool preemptible);
};

/* ---------------------------------------------------------------- ssh port */

/*
 * Outcome classes, mapped 1:1 from sshc's enum proto_ssh_outcome by the adapter (OK, EXIT,
 * BAD_SECRET, HOSTKEY_CHANGED, UNSAFE_DIR, TIMEOUT, CONNECT, INVALID, UNVERIFIED, BUSY,
 * CANCELED, FAILED), plus NO_ADDRESS, which the pool produces itself.
 */
enum pool_ssh_outcome {
	POOL_SSH_OK = 0,
	POOL_SSH_EXIT, /* ran, exited non-zero */
	POOL_SSH_BAD_SECRET,
	POOL_SSH_HOSTKEY_CHANGED,
	POOL_SSH_UNSAFE_DIR,
	POOL_SSH_TIMEOUT,
	POOL_SSH_CONNECT, /* network: expected while booting */
	POOL_SSH_INVALID,
	POOL_SSH_UNVERIFIED, /* the session is gone: verify again */
	POOL_SSH_BUSY,
	POOL_SSH_CANCELED,
	POOL_SSH_FAILED,
	POOL_SSH_NO_ADDRESS,
};

struct pool_ssh_result {
	enum pool_ssh_outcome outcome;
	int exit_status; /* -1 when none */
	const char *out; /* stdout; a NUL follows out_len bytes (proto_get_bytes), NULL if none */
	size_t out_len;
	const char *err; /* stderr; likewise */
	size_t err_len;
	const char *message; /* why, when not OK; never NULL */
};

typedef void (*pool_ssh_cb)(void *arg, const struct pool_ssh_result *r);

struct pool_ssh_start {
	const char *instance_id;
	const char *uuid;
	const char *runtime_engine; /* RuntimeEngine */
	const char *const *args;    /* CrunchRunArgumentsList */
	size_t nargs;
	const char *payload; /* --stdin-config JSON (holds SystemRootToken) */
	size_t payload_len;
};

/*
 * Shaped on sshc.h: the adapter is one line per call (child pointer in ctx, deploy's fd and
 * md5 held by the adapter, the ssh port number from CloudVMs.SSHPort). timeout_ms bounds each
 * call (weakness 6): the pool passes its own per-operation deadline.
 */
struct pool_ssh_port {
	void *ctx;
	/* Open (or re-target) the worker's session and check its instance secret; a secret of
	 * "host-key <key line>" checks the host key instead (PROTO_SSH_HOST_KEY_PREFIX). */
	int (*verify)(void *ctx, const char *instance_id, const char *address, const char *user,
		      const char *secret, uint32_t timeout_ms, pool_ssh_cb cb, void *arg);
	int (*boot_probe)(void *ctx, const char *instance_id, uint32_t timeout_ms, pool_ssh_cb cb,
			  void *arg);
	/* Install the runner binary (sshd-pool checks the hash first, 5.8). */
	int (*deploy)(void *ctx, const char *instance_id, uint32_t timeout_ms, pool_ssh_cb cb,
		      void *arg);
	/* crunch-run --list [--stdin-prices]; prices is JSON or NULL. spot: the spot check's
	 * line comes first in stdout (pool_spot_parse.h; -spot-interruption-notices). */
	int (*run_probe)(void *ctx, const char *instance_id, const char *prices, size_t len,
			 bool spot, uint32_t timeout_ms, pool_ssh_cb cb, void *arg);
	int (*start)(void *ctx, const struct pool_ssh_start *s, uint32_t timeout_ms, pool_ssh_cb cb,
		     void *arg);
	int (*kill)(void *ctx, const char *instance_id, const char *uuid, int signal,
		    uint32_t timeout_ms, pool_ssh_cb cb, void *arg);
	/* The instance is gone: close its session. Fire and forget. */
	void (*forget)(void *ctx, const char *instance_id);
};

#endif
