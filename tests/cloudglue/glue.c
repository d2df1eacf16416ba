/* glue.c - see glue.h. */
#include "glue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "secret_fd.h"
#include "uv_wait.h"

static int
glue_build_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct glue *g = arg;
	struct proto_cloud_init m = {
		.driver = g->driver,
		.driver_params_json = "",
		.instance_set_id = "zzzzz-test",
		.tag_key_prefix = "Arvados",
	};

	(void)c;
	return proto_cloud_init_encode(w, 0, 0, &m);
}

static int
glue_check_init(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct proto_status s;
	int r;

	(void)c;
	(void)arg;
	if (proto_status_decode(m, &s) != 0)
		return -1;
	r = s.status == PROTO_OK ? 0 : -1;
	snprintf(why, len, "init: %s", s.message);
	proto_status_free(&s);
	return r;
}

int
glue_start(struct glue *g, const char *driver, const char *secret_json)
{
	static const char *args[8];
	int fd;

	memset(g, 0, sizeof(*g));
	snprintf(g->driver, sizeof(g->driver), "%s", driver);
	uv_loop_init(&g->loop);
	fd = secret_memfd_create("driver-parameters", secret_json, strlen(secret_json));
	if (fd < 0)
		return -1;
	args[0] = "-driver";
	args[1] = g->driver;
	args[2] = "-cluster-id";
	args[3] = "zzzzz";
	args[4] = "-log-format";
	args[5] = "text";
	args[6] = NULL;
	struct child_spec spec = {
		.name = "cloudd",
		.role = PROTO_ROLE_CLOUDD,
		.path = CLOUDD_BIN,
		.args = args,
		.secret_fd = fd,
		.build_init = glue_build_init,
		.check_init = glue_check_init,
		.arg = g,
	};
	g->c = child_new(&g->loop, &spec);
	if (g->c == NULL)
		return -1;
	return glue_wait_ready(g, 1, 30000) ? 0 : -1;
}

/* The shared wait (tests/support): a bare UV_RUN_ONCE loop can sleep past a condition a timer
 * completed (libuv 1.44, issue 18). */
bool
glue_run_until(struct glue *g, const bool *flag, unsigned ms)
{
	return uvw_until_true(&g->loop, flag, ms) == 0;
}

struct glue_ready {
	struct glue *g;
	unsigned starts;
};

static bool
glue_ready_pred(void *arg)
{
	struct glue_ready *r = arg;

	return child_state(r->g->c) == CHILD_READY && child_starts(r->g->c) >= r->starts;
}

/* The state changes inside child.c's callbacks; the wait checks it after every one. */
bool
glue_wait_ready(struct glue *g, unsigned starts, unsigned ms)
{
	struct glue_ready r = { g, starts };

	return uvw_run_until(&g->loop, glue_ready_pred, &r, ms) == 0;
}

static void
glue_stopped(void *arg)
{
	((struct glue *)arg)->stopped = true;
}

void
glue_stop(struct glue *g)
{
	if (g->c != NULL) {
		child_stop(g->c, 2000, glue_stopped, g);
		glue_run_until(g, &g->stopped, 10000);
		g->c = NULL;
	}
	uv_run(&g->loop, UV_RUN_DEFAULT);
	uv_loop_close(&g->loop);
}

/* ---- results ---- */

static char *
glue_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static void
glue_copy_err(struct glue_res *r, const struct proto_cloud_err *e)
{
	proto_cloud_err_free(&r->err);
	r->err = *e;
	r->err.instance_type = glue_dup(e->instance_type);
	r->err.quota_group = glue_dup(e->quota_group);
	r->err.code = glue_dup(e->code);
	r->err.text = glue_dup(e->text);
}

void
glue_res_free(struct glue_res *r)
{
	proto_cloud_err_free(&r->err);
	memset(r, 0, sizeof(*r));
}

void
glue_create_cb(void *arg, const struct proto_cloud_err *err, const struct proto_cloud_inst *inst)
{
	struct glue_res *r = arg;

	glue_copy_err(r, err);
	if (inst != NULL) {
		snprintf(r->id, sizeof(r->id), "%s", inst->id);
		snprintf(r->address, sizeof(r->address), "%s", inst->address);
		snprintf(r->host_key, sizeof(r->host_key), "%s", inst->host_key);
		snprintf(r->user, sizeof(r->user), "%s", inst->remote_user);
		snprintf(r->state, sizeof(r->state), "%s", inst->state);
		snprintf(r->ptype, sizeof(r->ptype), "%s", inst->provider_type);
	}
	r->done = true;
}

static int
glue_wait(struct glue *g, int rc, struct glue_res *r)
{
	if (rc != 0)
		return rc;
	return glue_run_until(g, &r->done, 120000) ? 0 : -ETIMEDOUT;
}

int
glue_create(struct glue *g, const struct proto_cloud_create *req, struct glue_res *r)
{
	memset(r, 0, sizeof(*r));
	return glue_wait(g, cloudc_create(g->c, req, 60000, glue_create_cb, r), r);
}

static void
glue_part_cb(void *arg, const struct proto_cloud_inst *insts, size_t n)
{
	struct glue_res *r = arg;

	r->parts++;
	if (r->n == 0 && n > 0) {
		snprintf(r->id, sizeof(r->id), "%s", insts[0].id);
		snprintf(r->address, sizeof(r->address), "%s", insts[0].address);
		snprintf(r->state, sizeof(r->state), "%s", insts[0].state);
	}
	r->n += n;
}

static void
glue_done_cb(void *arg, const struct proto_cloud_err *err)
{
	struct glue_res *r = arg;

	glue_copy_err(r, err);
	r->done = true;
}

int
glue_list(struct glue *g, const struct proto_cloud_tags *filter, struct glue_res *r)
{
	memset(r, 0, sizeof(*r));
	return glue_wait(g, cloudc_list(g->c, filter, 120000, glue_part_cb, glue_done_cb, r), r);
}

static void
glue_destroy_cb(void *arg, const struct proto_cloud_err *err, size_t n, char *const *ids,
		const struct proto_cloud_err *errs)
{
	struct glue_res *r = arg;

	(void)ids;
	glue_copy_err(r, err);
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		if (errs[i].status == PROTO_OK)
			r->n_ok++;
		else if (r->first_err_code[0] == 0)
			snprintf(r->first_err_code, sizeof(r->first_err_code), "%s", errs[i].code);
	}
	r->done = true;
}

int
glue_destroy(struct glue *g, const char *const *ids, size_t n, struct glue_res *r)
{
	memset(r, 0, sizeof(*r));
	return glue_wait(g, cloudc_destroy(g->c, ids, n, 60000, glue_destroy_cb, r), r);
}

int
glue_set_tags(struct glue *g, const char *id, const struct proto_cloud_tags *t, struct glue_res *r)
{
	memset(r, 0, sizeof(*r));
	return glue_wait(g, cloudc_set_tags(g->c, id, t, 60000, glue_done_cb, r), r);
}

static void
glue_prices_cb(void *arg, const struct proto_cloud_err *err, const struct proto_cloud_price *v,
	       size_t n)
{
	struct glue_res *r = arg;

	(void)v;
	glue_copy_err(r, err);
	r->n = n;
	r->done = true;
}

int
glue_prices(struct glue *g, const struct proto_cloud_prices *p, struct glue_res *r)
{
	memset(r, 0, sizeof(*r));
	return glue_wait(g, cloudc_price_history(g->c, p, 60000, glue_prices_cb, r), r);
}

static void
glue_qgroup_cb(void *arg, const struct proto_cloud_err *err, const char *group)
{
	struct glue_res *r = arg;

	glue_copy_err(r, err);
	snprintf(r->group, sizeof(r->group), "%s", group ? group : "");
	r->done = true;
}

int
glue_qgroup(struct glue *g, const struct proto_cloud_itype *t, struct glue_res *r)
{
	memset(r, 0, sizeof(*r));
	return glue_wait(g, cloudc_quota_group(g->c, t, 60000, glue_qgroup_cb, r), r);
}
