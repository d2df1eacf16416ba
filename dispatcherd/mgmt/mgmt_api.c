/* mgmt_api.c - the 7.2 routes: parameters, status codes and texts; the data is the providers'.
 * The two lists are served by mgmt_list.c (cached, rendered in slices across loop turns,
 * streamed when large). */
#include "mgmt_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_gate.h"
#include "mgmt_list.h"

/* A one-shot list provider seen as an incremental source: the array is the snapshot. */
struct mgmt_oneshot {
	const struct mgmt_providers *p;
	int (*list)(void *ctx, cJSON **items);
};

struct mgmt_api {
	const struct mgmt_providers *p;
	struct mgmt_oneshot c1, i1;
	struct mgmt_list containers, instances;
	int nclosing;
};

struct action_route {
	const char *path;
	enum mgmt_instance_action action;
	const char *not_found;
};

static const struct action_route actions[] = {
	{ "/arvados/v1/dispatch/instances/hold", MGMT_HOLD, "requested instance does not exist" },
	{ "/arvados/v1/dispatch/instances/drain", MGMT_DRAIN, "requested instance does not exist" },
	{ "/arvados/v1/dispatch/instances/run", MGMT_RUN, "requested instance does not exist" },
	{ "/arvados/v1/dispatch/instances/kill", MGMT_KILL, "instance not found" },
};

/* The reference sends null before the first pass or with no workers; [] (no entries) is kinder
 * to clients and is what the design asks for. */
static int
oneshot_open(void *ctx, void **snap, size_t *n)
{
	struct mgmt_oneshot *o = ctx;
	cJSON *items = NULL;
	int rc = o->list ? o->list(o->p->ctx, &items) : 0;

	if (rc < 0) {
		cJSON_Delete(items);
		return rc;
	}
	*snap = items;
	*n = items ? (size_t)cJSON_GetArraySize(items) : 0;
	return 0;
}

/* Entries are taken in order: the first one left is entry i. */
static int
oneshot_entry(void *ctx, void *snap, size_t i, cJSON **out)
{
	cJSON *items = snap;

	(void)ctx, (void)i;
	*out = items && items->child ? cJSON_DetachItemViaPointer(items, items->child) : NULL;
	return 0;
}

static void
oneshot_close(void *ctx, void *snap)
{
	(void)ctx;
	cJSON_Delete(snap);
}

static const struct mgmt_list_src oneshot_src = { oneshot_open, oneshot_entry, oneshot_close };

static int
h_containers(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct mgmt_api *a = ctx;

	return mgmt_list_serve(&a->containers, r, w);
}

static int
h_instances(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct mgmt_api *a = ctx;

	return mgmt_list_serve(&a->instances, r, w);
}

static int
h_container(void *ctx, const struct http_request *r, struct http_response *w)
{
	const struct mgmt_providers *p = ((struct mgmt_api *)ctx)->p;
	const char *uuid = http_request_param(r, "container_uuid");
	cJSON *ent = NULL;
	/* A missing parameter is a 404 too, as in the reference. */
	int rc = uuid && p->get_container ? p->get_container(p->ctx, uuid, &ent) : MGMT_NOT_FOUND;
	if (rc < 0 || (rc == 0 && !ent)) {
		cJSON_Delete(ent);
		return http_respond_error(w, 500, "internal error");
	}
	if (rc == MGMT_NOT_FOUND) {
		cJSON_Delete(ent);
		return http_respond_error(w, 404, "container not found");
	}
	return http_respond_json(w, 200, ent);
}

static void
full_reason(char *buf, size_t len, const char *reason)
{
	snprintf(buf, len, "via management API: %s", reason ? reason : "");
}

/* A standby (issue 15) answers lists and health, but acts on nothing: an action taken here
 * would change its own records only (a drained instance destroyed the moment it became
 * active), not the active dispatcher's. 503 tells the caller to ask the active one. */
static bool
refused_while_standby(struct http_response *w, int *rc)
{
	char status[256];
	if (!dispatch_gate_status(status, sizeof(status)))
		return false;
	char msg[320];
	snprintf(msg, sizeof(msg), "this dispatcher is a %s; send actions to the active one",
		 status);
	*rc = http_respond_error(w, 503, msg);
	return true;
}

static int
h_container_kill(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct mgmt_api *api = ctx;
	const struct mgmt_providers *p = api->p;
	const char *uuid = http_request_param(r, "container_uuid");
	char reason[512];
	if (!uuid || !*uuid)
		return http_respond_error(w, 400, "container_uuid parameter not provided");
	int refused;
	if (refused_while_standby(w, &refused))
		return refused;
	full_reason(reason, sizeof(reason), http_request_param(r, "reason"));
	int rc = p->kill_container ? p->kill_container(p->ctx, uuid, reason) : MGMT_NOT_FOUND;
	if (rc < 0)
		return http_respond_error(w, 500, "internal error");
	if (rc == MGMT_NOT_FOUND)
		return http_respond_error(w, 404, "container not found");
	/* The caller's next list must show what it just did, not a cached rendering. */
	mgmt_list_invalidate(&api->containers);
	mgmt_list_invalidate(&api->instances);
	return http_respond_empty(w, 200);
}

static int
h_instance_action(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct mgmt_api *api = ctx;
	const struct mgmt_providers *p = api->p;
	const struct action_route *a = NULL;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(actions[i].path, http_request_path(r)))
			a = &actions[i];
	const char *id = http_request_param(r, "instance_id");
	if (!a)
		return http_respond_error(w, 500, "internal error");
	if (!id || !*id)
		return http_respond_error(w, 400, "instance_id parameter not provided");
	int refused;
	if (refused_while_standby(w, &refused))
		return refused;
	char reason[512] = "";
	if (a->action == MGMT_KILL)
		full_reason(reason, sizeof(reason), http_request_param(r, "reason"));
	int rc = p->instance_action ? p->instance_action(p->ctx, a->action, id, reason)
				    : MGMT_NOT_FOUND;
	if (rc < 0)
		return http_respond_error(w, 500, "internal error");
	if (rc == MGMT_NOT_FOUND)
		return http_respond_error(w, 404, a->not_found);
	mgmt_list_invalidate(&api->instances);
	return http_respond_empty(w, 200);
}

static void
mgmt_api_closed(void *arg)
{
	struct mgmt_api *a = arg;

	if (--a->nclosing == 0)
		free(a);
}

/* The server is closing: the lists forget their waiters (the server answers them 503). */
static void
mgmt_api_on_close(void *arg)
{
	struct mgmt_api *a = arg;

	a->nclosing = 2;
	mgmt_list_close(&a->containers, mgmt_api_closed, a);
	mgmt_list_close(&a->instances, mgmt_api_closed, a);
}

static int
mgmt_api_lists(struct http_server *s, struct mgmt_api *a, const struct mgmt_api_opts *o)
{
	const struct mgmt_providers *p = a->p;
	struct mgmt_list_opts lo = {
		.cache_ms = o && o->cache_ms ? o->cache_ms : 1000,
		.budget_ns = o ? o->slice_budget_ns : 0,
		.slice_max = o ? o->slice_max : 0,
		.cache_max = o ? o->cache_max : 0,
		.window = o ? o->window : 0,
		.max_renders = o ? o->max_renders : 0,
	};
	int rc;

	a->c1 = (struct mgmt_oneshot){ p, p->list_containers };
	a->i1 = (struct mgmt_oneshot){ p, p->list_instances };
	lo.src = p->containers_src.open ? p->containers_src : oneshot_src;
	lo.src_ctx = p->containers_src.open ? p->ctx : &a->c1;
	if ((rc = mgmt_list_init(&a->containers, s, &lo)) < 0)
		return rc;
	lo.src = p->instances_src.open ? p->instances_src : oneshot_src;
	lo.src_ctx = p->instances_src.open ? p->ctx : &a->i1;
	if ((rc = mgmt_list_init(&a->instances, s, &lo)) < 0) {
		/* Registration failures are fatal to the caller, which closes the loop. */
		a->nclosing = 1;
		mgmt_list_close(&a->containers, mgmt_api_closed, a);
		return rc;
	}
	if ((rc = http_server_on_close(s, mgmt_api_on_close, a)) < 0) {
		mgmt_api_on_close(a);
		return rc;
	}
	return 0;
}

int
mgmt_api_register(struct http_server *s, const struct mgmt_providers *p)
{
	return mgmt_api_register_opts(s, p, NULL);
}

int
mgmt_api_register_opts(struct http_server *s, const struct mgmt_providers *p,
		       const struct mgmt_api_opts *o)
{
	struct mgmt_api *a = calloc(1, sizeof(*a));
	int rc;

	if (a == NULL)
		return -ENOMEM;
	a->p = p;
	if ((rc = mgmt_api_lists(s, a, o)) < 0)
		return rc; /* a is freed once the lists' handles are closed */
	void *c = a;
	rc = 0;
	rc = rc ? rc
		: http_server_route(s, "GET", "/arvados/v1/dispatch/containers", h_containers, c);
	rc = rc ? rc
		: http_server_route(s, "GET", "/arvados/v1/dispatch/container", h_container, c);
	rc = rc ? rc
		: http_server_route(s, "POST", "/arvados/v1/dispatch/containers/kill",
				    h_container_kill, c);
	rc = rc ? rc
		: http_server_route(s, "GET", "/arvados/v1/dispatch/instances", h_instances, c);
	for (size_t i = 0; !rc && i < sizeof(actions) / sizeof(actions[0]); i++)
		rc = http_server_route(s, "POST", actions[i].path, h_instance_action, c);
	return rc;
}
