/* glue.h - a real cloudd started through dispatcherd/helpers/child.c on a libuv loop, and
 * synchronous wrappers around cloudc_* for the end-to-end tests. */
#ifndef CLOUDGLUE_GLUE_H
#define CLOUDGLUE_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "child.h"
#include "cloudc.h"

struct glue {
	uv_loop_t loop;
	struct child *c;
	char driver[16];
	bool stopped;
};

/* Spawn CLOUDD_BIN -driver driver (sandbox on) with secret_json in its secret memfd; run
 * the loop until it is ready. 0 or -1. */
int glue_start(struct glue *g, const char *driver, const char *secret_json);
/* Run the loop until *flag or ms pass. true when *flag. */
bool glue_run_until(struct glue *g, const bool *flag, unsigned ms);
/* Until the child is ready with at least `starts` spawns. */
bool glue_wait_ready(struct glue *g, unsigned starts, unsigned ms);
void glue_stop(struct glue *g);

/* A copy of what a callback saw. */
struct glue_res {
	bool done;
	int parts;		    /* list: part callbacks */
	struct proto_cloud_err err; /* strings copied */
	char id[256], address[256], host_key[1024], user[64], state[32], group[64];
	char ptype[64];
	size_t n; /* list: instances; destroy: outcomes; prices: entries */
	int n_ok; /* destroy: outcomes OK */
	char first_err_code[64];
};
void glue_res_free(struct glue_res *r);

int glue_create(struct glue *g, const struct proto_cloud_create *req, struct glue_res *r);
int glue_list(struct glue *g, const struct proto_cloud_tags *filter, struct glue_res *r);
int glue_destroy(struct glue *g, const char *const *ids, size_t n, struct glue_res *r);
int
glue_set_tags(struct glue *g, const char *id, const struct proto_cloud_tags *t, struct glue_res *r);
int glue_prices(struct glue *g, const struct proto_cloud_prices *p, struct glue_res *r);
int glue_qgroup(struct glue *g, const struct proto_cloud_itype *t, struct glue_res *r);

/* Callbacks for a caller that does not wait (the kill test). */
void
glue_create_cb(void *arg, const struct proto_cloud_err *err, const struct proto_cloud_inst *inst);

#endif
