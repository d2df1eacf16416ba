/* mgmt_api.c - the 7.2 routes: parameters, status codes and texts; the data is the providers'. */
#include "mgmt_api.h"

#include <stdio.h>
#include <string.h>

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

static int
respond_items(struct http_response *w, int rc, cJSON *items)
{
	if (rc < 0) {
		cJSON_Delete(items);
		return http_respond_error(w, 500, "internal error");
	}
	/* The reference sends null before the first pass or with no workers; [] is kinder to
	 * clients and is what the design asks for. */
	if (!items)
		items = cJSON_CreateArray();
	cJSON *o = cJSON_CreateObject();
	if (!o || !items || !cJSON_AddItemToObject(o, "items", items)) {
		cJSON_Delete(o);
		cJSON_Delete(items);
		return http_respond_error(w, 500, "out of memory");
	}
	return http_respond_json(w, 200, o);
}

static int
h_containers(void *ctx, const struct http_request *r, struct http_response *w)
{
	const struct mgmt_providers *p = ctx;
	(void)r;
	cJSON *items = NULL;
	int rc = p->list_containers ? p->list_containers(p->ctx, &items) : 0;
	return respond_items(w, rc, items);
}

static int
h_instances(void *ctx, const struct http_request *r, struct http_response *w)
{
	const struct mgmt_providers *p = ctx;
	(void)r;
	cJSON *items = NULL;
	int rc = p->list_instances ? p->list_instances(p->ctx, &items) : 0;
	return respond_items(w, rc, items);
}

static int
h_container(void *ctx, const struct http_request *r, struct http_response *w)
{
	const struct mgmt_providers *p = ctx;
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

static int
h_container_kill(void *ctx, const struct http_request *r, struct http_response *w)
{
	const struct mgmt_providers *p = ctx;
	const char *uuid = http_request_param(r, "container_uuid");
	char reason[512];
	if (!uuid || !*uuid)
		return http_respond_error(w, 400, "container_uuid parameter not provided");
	full_reason(reason, sizeof(reason), http_request_param(r, "reason"));
	int rc = p->kill_container ? p->kill_container(p->ctx, uuid, reason) : MGMT_NOT_FOUND;
	if (rc < 0)
		return http_respond_error(w, 500, "internal error");
	if (rc == MGMT_NOT_FOUND)
		return http_respond_error(w, 404, "container not found");
	return http_respond_empty(w, 200);
}

static int
h_instance_action(void *ctx, const struct http_request *r, struct http_response *w)
{
	const struct mgmt_providers *p = ctx;
	const struct action_route *a = NULL;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(actions[i].path, http_request_path(r)))
			a = &actions[i];
	const char *id = http_request_param(r, "instance_id");
	if (!a)
		return http_respond_error(w, 500, "internal error");
	if (!id || !*id)
		return http_respond_error(w, 400, "instance_id parameter not provided");
	char reason[512] = "";
	if (a->action == MGMT_KILL)
		full_reason(reason, sizeof(reason), http_request_param(r, "reason"));
	int rc = p->instance_action ? p->instance_action(p->ctx, a->action, id, reason)
				    : MGMT_NOT_FOUND;
	if (rc < 0)
		return http_respond_error(w, 500, "internal error");
	if (rc == MGMT_NOT_FOUND)
		return http_respond_error(w, 404, a->not_found);
	return http_respond_empty(w, 200);
}

int
mgmt_api_register(struct http_server *s, const struct mgmt_providers *p)
{
	void *c = (void *)p;
	int rc = 0;
	rc = rc ? rc : http_server_route(s, "GET", "/arvados/v1/dispatch/containers", h_containers, c);
	rc = rc ? rc : http_server_route(s, "GET", "/arvados/v1/dispatch/container", h_container, c);
	rc = rc ? rc : http_server_route(s, "POST", "/arvados/v1/dispatch/containers/kill",
					 h_container_kill, c);
	rc = rc ? rc : http_server_route(s, "GET", "/arvados/v1/dispatch/instances", h_instances, c);
	for (size_t i = 0; !rc && i < sizeof(actions) / sizeof(actions[0]); i++)
		rc = http_server_route(s, "POST", actions[i].path, h_instance_action, c);
	return rc;
}
