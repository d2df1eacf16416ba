/* harness.h - start fake_ec2.py over HTTPS with a fresh test CA, talk to its control API,
 * build EC2 drivers against it and run the loop until an operation completes. */
#ifndef EC2_TEST_HARNESS_H
#define EC2_TEST_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "drv.h"
#include "ec2_ops.h"

struct fake {
	pid_t pid;
	char endpoint[128];
	char dir[256]; /* CA and cert live here */
	char ca[300];
	cJSON *info;
};

/* Starts a server script (python) with args (NULL-terminated) plus --port 0 --tls; reads its
 * first JSON line. script NULL: fake_ec2.py. 0 or -1. */
int fake_start(struct fake *f, const char *script, const char *const *args);
void fake_stop(struct fake *f);
/* Control API: JSON body (or NULL); the answer parsed (caller frees), NULL on failure. */
cJSON *fake_ctl(struct fake *f, const char *method, const char *path, const char *body);
/* Convenience: fake_ctl and discard; returns 0 when the answer was JSON. */
int fake_ctl0(struct fake *f, const char *method, const char *path, const char *body);
/* The access key id and the session token ("" when absent) of the last request the fake
 * logged (/_fake/requests). */
void fake_last_auth(struct fake *f, char *akid, size_t al, char *tok, size_t tl);

/* Driver against f with DriverParameters JSON text params_json (Region added if absent). */
struct drv *drv_for(uv_loop_t *loop, struct fake *f, const char *params_json,
		    const struct ec2_driver_opts *extra);
void drv_done_free(uv_loop_t *loop, struct drv *d);

/* Synchronous wrappers: run the loop until the callback came. */
struct op_result {
	bool done;
	struct drv_error err;
	bool failed;
	struct drv_instance inst;  /* create */
	struct drv_instance *list; /* list */
	size_t n_list, n_pages;
	size_t n_destroy;
	struct drv_error *destroy_errs;
};
void op_result_free(struct op_result *r);
int
do_create(uv_loop_t *loop, struct drv *d, const struct drv_itype *t, const struct drv_tags *tags,
	  const char *pubkey, const char *key, struct op_result *r);
int do_list(uv_loop_t *loop, struct drv *d, const struct drv_tags *filter, struct op_result *r);
int
do_destroy(uv_loop_t *loop, struct drv *d, const char *const *ids, size_t n, struct op_result *r);
int do_set_tags(uv_loop_t *loop, struct drv *d, const char *id, const struct drv_tags *tags,
		struct op_result *r);

/* Number of logged requests for action (NULL: all). */
int fake_count(struct fake *f, const char *action);

#endif
