/*
 * drv.h - the cloud driver interface inside cloudd (spec cloud-drivers.md section 1).
 *
 * Every operation is asynchronous on cloudd's libuv loop: it starts the cloud calls and
 * returns at once; the result arrives through a callback, called exactly once (list: one
 * page callback per cloud page, then exactly one done callback), never from inside the
 * starting call. Starting functions return 0, or a negative errno when nothing was started
 * (then no callback is called).
 *
 * Failures are classified (1.4) in struct drv_error; the driver never retries a failed call:
 * the dispatcher's throttle/backoff is the only retry layer (reference issues 19972, 23178).
 * Everything handed to a callback belongs to the driver and is valid only during the call.
 */
#ifndef ADC_DRV_H
#define ADC_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum drv_err_class {
	DRV_OK = 0,
	DRV_ERR_RATE_LIMIT, /* retry no earlier than earliest_retry_ms */
	DRV_ERR_QUOTA,	    /* account or subnet quota: the pool is "at quota" */
	DRV_ERR_CAPACITY,   /* provider capacity: see type_specific / quota_group_specific */
	DRV_ERR_OTHER,	    /* unclassified: logged, retried on a later pass */
};

struct drv_error {
	enum drv_err_class cls;
	int64_t earliest_retry_ms; /* RATE_LIMIT: wall clock, ms since the epoch */
	bool type_specific;	   /* CAPACITY: for this instance type (spot apart, see spot) */
	bool quota_group_specific; /* CAPACITY: for every type of quota_group */
	bool spot;		   /* the failed request was for a preemptible instance */
	char instance_type[64];	   /* ProviderType the error is about ("" when none) */
	char quota_group[64];	   /* its InstanceQuotaGroup (with -spot) */
	int http_status;	   /* 0 when no HTTP answer (transport error) */
	char code[64];		   /* provider error code, "" for transport/parse errors */
	char text[512];		   /* "api error CODE: MESSAGE" or the transport/parse error */
};

struct drv_tag {
	char *key;
	char *value;
};

struct drv_tags {
	struct drv_tag *v;
	size_t n;
};

/* A snapshot of one instance (1.3). Strings are never NULL ("" when unknown). */
struct drv_instance {
	char *id;
	char *provider_type;
	char *address; /* private IP; the executor appends the SSH port */
	char *subnet_id;
	char *state; /* pending, running, stopping, stopped */
	char *az;    /* availability zone, "" when unknown */
	bool spot;
	struct drv_tags tags;
	char *host_key; /* host public key line when the driver knows it (loopback), or NULL */
};

/* What drivers use of an instance type (1.2). */
struct drv_itype {
	const char *name;
	const char *provider_type;
	double price;
	bool preemptible;
	int64_t added_scratch; /* bytes */
};

struct drv_price {
	int64_t start_time; /* seconds since the epoch */
	double price;	    /* $/hour */
};

struct drv;

typedef void (*drv_create_cb)(void *arg, const struct drv_error *err,
			      const struct drv_instance *inst);
typedef void (*drv_page_cb)(void *arg, const struct drv_instance *insts, size_t n);
typedef void (*drv_done_cb)(void *arg, const struct drv_error *err);
/* Batched destroy: errs[i] is the outcome for ids[i] (cls DRV_OK when terminated). */
typedef void (*drv_destroy_cb)(void *arg, size_t n, const char *const *ids,
			       const struct drv_error *errs);

struct drv_ops {
	int (*create)(struct drv *d, const struct drv_itype *t, const char *image_id,
		      const struct drv_tags *tags, const char *init_command, const char *public_key,
		      drv_create_cb cb, void *arg);
	/* Instances carrying every filter tag; pages streamed, then done. */
	int (*list)(struct drv *d, const struct drv_tags *filter, drv_page_cb page,
		    drv_done_cb done, void *arg);
	/* Many ids per cloud call where the API allows it. */
	int (*destroy)(struct drv *d, const char *const *ids, size_t n, drv_destroy_cb cb,
		       void *arg);
	/* Adds/overwrites the given tags (merge; EC2 cannot replace atomically). */
	int (*set_tags)(struct drv *d, const char *id, const struct drv_tags *tags, drv_done_cb cb,
			void *arg);
	/* Host (or host:port) to SSH to, "" when none yet. */
	const char *(*address)(struct drv *d, const struct drv_instance *inst);
	const char *(*remote_user)(struct drv *d);
	/* Price history of inst (type t) from the driver's cache, newest first; *out is
	 * malloc'd (NULL and 0 when none). 0 or -ENOMEM. */
	int (*price_history)(struct drv *d, const struct drv_instance *inst,
			     const struct drv_itype *t, struct drv_price **out, size_t *n);
	/* InstanceQuotaGroup (2.9) into buf; 0, or -ENOSPC when it does not fit. */
	int (*quota_group)(struct drv *d, const struct drv_itype *t, char *buf, size_t len);
	/* Cancels nothing: call only when no operation is in flight (after the loop drained). */
	void (*free)(struct drv *d);
};

struct drv {
	const struct drv_ops *ops;
};

/* Helpers shared by drivers and callers (drv.c). */
void drv_error_set(struct drv_error *e, enum drv_err_class cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *drv_err_class_name(enum drv_err_class c);
int drv_tags_copy(struct drv_tags *dst, const struct drv_tags *src);
int drv_tags_add(struct drv_tags *t, const char *key, const char *value);
const char *drv_tags_get(const struct drv_tags *t, const char *key);
void drv_tags_free(struct drv_tags *t);
void drv_instance_free(struct drv_instance *i);
/* The price_history of a driver that keeps none (Azure, loopback): always none. */
int drv_price_history_none(struct drv *d, const struct drv_instance *inst,
			   const struct drv_itype *t, struct drv_price **out, size_t *n);

#endif
