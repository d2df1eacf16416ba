/*
 * http_front.c - spec 7.1's request path once the request is in: the routes served before the
 * dispatcher (/metrics, /metrics.json, GET /_health/ping, GET /_inspect/requests), then the
 * dispatcher's token check and its route table.
 *
 * Deviation (weakness 24): with ManagementToken empty the reference serves /metrics and
 * /metrics.json to anyone; here they are refused like every dispatcher route (403, same text).
 */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "http_auth.h"

#define NOT_CONFIGURED "Management API authentication is not configured"

static enum http_auth
auth_of(struct http_server *s, struct http_request *rq)
{
	return http_auth_check(
		s->token, s->token_len,
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization"));
}

/* The dispatcher's (and now the metrics') rule; 1 when the request may go on. */
static int
require_token(struct http_server *s, struct http_request *rq)
{
	switch (auth_of(s, rq)) {
	case HTTP_AUTH_OK:
		return 1;
	case HTTP_AUTH_UNSET:
		http_respond_text(&rq->resp, 403, NOT_CONFIGURED);
		return 0;
	case HTTP_AUTH_MISSING:
		http_respond_text(&rq->resp, 401, "Unauthorized");
		return 0;
	default:
		http_respond_text(&rq->resp, 403, "Forbidden");
		return 0;
	}
}

static void
serve_metrics(struct http_server *s, struct http_request *rq, int json)
{
	if (!s->metrics) {
		http_respond_text(&rq->resp, 404, "404 page not found");
		return;
	}
	if (json) {
		cJSON *a = metrics_render_json(s->metrics);
		if (a)
			http_respond_json(&rq->resp, 200, a);
		else
			http_respond_error(&rq->resp, 500, "out of memory");
		return;
	}
	char *text;
	size_t len;
	if (metrics_render_text(s->metrics, &text, &len) < 0)
		http_respond_error(&rq->resp, 500, "out of memory");
	else
		http_respond_raw(&rq->resp, 200, "text/plain; version=0.0.4; charset=utf-8", text,
				 len);
}

/* sdk/go/health: its own statuses and texts, and an exact "Bearer <token>" header. */
static void
serve_health_ping(struct http_server *s, struct http_request *rq)
{
	const char *err = s->health ? s->health(s->health_ctx) : NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "health", err ? "ERROR" : "OK");
	if (err)
		cJSON_AddStringToObject(o, "error", err);
	http_respond_json(&rq->resp, 200, o);
}

static cJSON *
inspect_entry(struct http_request *r, uint64_t now)
{
	char ra[64];
	http_remote_addr(r->conn, ra, sizeof(ra));
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	const char *xff = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "RequestID", r->request_id);
	cJSON_AddStringToObject(o, "Method", r->method ? r->method : "");
	cJSON_AddStringToObject(o, "Host", h ? h : "");
	cJSON_AddStringToObject(o, "URL", r->uri ? r->uri : "");
	cJSON_AddStringToObject(o, "RemoteAddr", ra);
	cJSON_AddStringToObject(o, "XForwardedFor", xff ? xff : "");
	cJSON_AddNumberToObject(o, "Elapsed", (double)(now - r->t_start_ns) / 1e9);
	return o;
}

static void
serve_inspect(struct http_server *s, struct http_request *rq)
{
	uint64_t now = uv_hrtime();
	cJSON *a = cJSON_CreateArray();
	for (struct http_request *r = s->inflight; a && r; r = r->next)
		if (r->started)
			cJSON_AddItemToArray(a, inspect_entry(r, now));
	http_respond_json(&rq->resp, 200, a);
}

/* The exact "Bearer <token>" rule of /_health/ping, with its own statuses and texts. */
static int
require_health_token(struct http_server *s, struct http_request *rq)
{
	const char *ah = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
	switch (http_auth_check_exact(s->token, s->token_len, ah)) {
	case HTTP_AUTH_UNSET:
		http_respond_text(&rq->resp, 404, "disabled");
		return 0;
	case HTTP_AUTH_MISSING:
		http_respond_text(&rq->resp, 401, "authorization required");
		return 0;
	case HTTP_AUTH_WRONG:
		http_respond_text(&rq->resp, 403, "authorization error");
		return 0;
	case HTTP_AUTH_OK:
		break;
	}
	return 1;
}

/* /_inspect/requests: exact "Bearer <token>", 401 otherwise. */
static int
require_inspect_token(struct http_server *s, struct http_request *rq)
{
	const char *ah = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
	if (http_auth_check_exact(s->token, s->token_len, ah) != HTTP_AUTH_OK) {
		http_respond_error(&rq->resp, 401, "unauthorized");
		return 0;
	}
	return 1;
}

enum front_route { FRONT_METRICS, FRONT_METRICS_JSON, FRONT_HEALTH, FRONT_INSPECT, FRONT_OTHER };

static enum front_route
front_route(const struct http_request *rq)
{
	const char *m = rq->method, *p = rq->path;
	int get = !strcmp(m, "GET"), gethead = get || !strcmp(m, "HEAD");
	if (gethead && !strcmp(p, "/metrics"))
		return FRONT_METRICS;
	if (gethead && !strcmp(p, "/metrics.json"))
		return FRONT_METRICS_JSON;
	if (get && !strcmp(p, "/_health/ping"))
		return FRONT_HEALTH;
	if (get && !strcmp(p, "/_inspect/requests"))
		return FRONT_INSPECT;
	return FRONT_OTHER;
}

int
http_front_authorize(struct http_server *s, struct http_request *rq)
{
	switch (front_route(rq)) {
	case FRONT_HEALTH:
		return require_health_token(s, rq);
	case FRONT_INSPECT:
		return require_inspect_token(s, rq);
	default:
		return require_token(s, rq);
	}
}

void
http_front_dispatch(struct http_server *s, struct http_request *rq)
{
	const char *m = rq->method, *p = rq->path;
	int get = !strcmp(m, "GET");
	/* http_request.c authorised the head before reading the body; checked again here so
	 * that this path stands on its own (cheap: a constant-time compare). */
	if (!http_front_authorize(s, rq))
		return;
	switch (front_route(rq)) {
	case FRONT_METRICS:
	case FRONT_METRICS_JSON:
		return serve_metrics(s, rq, p[8] == '.');
	case FRONT_HEALTH:
		return serve_health_ping(s, rq);
	case FRONT_INSPECT:
		return serve_inspect(s, rq);
	case FRONT_OTHER:
		break;
	}
	/* The dispatcher's own /_health/:check: only "ping" exists, served above. */
	if (get && !strncmp(p, "/_health/", 9) && p[9] && !strchr(p + 9, '/'))
		return (void)http_respond_text(&rq->resp, 404, "not found");
	http_router_dispatch(s, rq);
}

/* Shadowed by http_front_dispatch for GET; registered so that another method gets the
 * dispatcher's 405 with Allow, as in the reference (7.2, last row). */
static int
h_shadowed(void *ctx, const struct http_request *r, struct http_response *w)
{
	(void)ctx, (void)r;
	return http_respond_text(w, 404, "404 page not found");
}

int
http_front_register_builtin(struct http_server *s)
{
	static const char *const paths[] = { "/metrics", "/metrics.json", "/_health/ping" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int rc = http_server_route(s, "GET", paths[i], h_shadowed, NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}
