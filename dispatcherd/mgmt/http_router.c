/* http_router.c - the dispatcher's route table: exact method + path, 404 for an unknown path,
 * 405 with Allow for a known path and another method (httprouter's texts, as the reference). */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
http_server_route(struct http_server *s, const char *method, const char *path, http_handler_fn fn,
		  void *ctx)
{
	for (size_t i = 0; i < s->nroutes; i++)
		if (!strcmp(s->routes[i].method, method) && !strcmp(s->routes[i].path, path))
			return -EEXIST;
	struct http_route *v = realloc(s->routes, (s->nroutes + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->routes = v;
	struct http_route *r = &v[s->nroutes];
	r->method = strdup(method);
	r->path = strdup(path);
	r->fn = fn;
	r->ctx = ctx;
	if (!r->method || !r->path) {
		free(r->method);
		free(r->path);
		return -ENOMEM;
	}
	s->nroutes++;
	return 0;
}

void
http_router_free(struct http_server *s)
{
	for (size_t i = 0; i < s->nroutes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].path);
	}
	free(s->routes);
	s->routes = NULL;
	s->nroutes = 0;
}

static void
method_not_allowed(struct http_server *s, struct http_request *rq)
{
	char allow[128] = "";
	size_t n = 0;
	for (size_t i = 0; i < s->nroutes; i++) {
		if (strcmp(s->routes[i].path, rq->path) != 0)
			continue;
		int w = snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
				 s->routes[i].method);
		if (w < 0 || (size_t)w >= sizeof(allow) - n)
			break;
		n += (size_t)w;
	}
	http_respond_text(&rq->resp, 405, "Method Not Allowed");
	http_respond_header(&rq->resp, "Allow", allow);
}

void
http_router_dispatch(struct http_server *s, struct http_request *rq)
{
	int path_known = 0;
	for (size_t i = 0; i < s->nroutes; i++) {
		struct http_route *r = &s->routes[i];
		if (strcmp(r->path, rq->path) != 0)
			continue;
		path_known = 1;
		if (strcmp(r->method, rq->method) != 0)
			continue;
		int rc = r->fn(r->ctx, rq, &rq->resp);
		if (rc == HTTP_DEFER) {
			rq->deferred = true;
			return;
		}
		if (rc < 0 && !rq->resp.status)
			http_respond_error(&rq->resp, 500, "internal error");
		return;
	}
	if (path_known)
		method_not_allowed(s, rq);
	else
		http_respond_text(&rq->resp, 404, "404 page not found");
}
