/*
 * http_request.c - per-request state: X-Request-Id, the `request`/`response` log entries
 * (spec 9), body limits, form parameters (MHD's post processor; no hand-written parsing),
 * queueing the response, request metrics, the in-flight list.
 */
#include "http_request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "log.h"
#include "metrics_catalog.h"
#include "util.h"

static double
secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void
inflight_gauge(struct http_server *s)
{
	if (!s->metrics)
		return;
	const char *api[] = { "api" };
	metrics_set(metrics_find(s->metrics, MET_CONCURRENT_REQUESTS), api, (double)s->ninflight);
}

void *
http_request_begin(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct http_request *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return NULL; /* the access handler then refuses the request */
	rq->srv = s;
	rq->conn = conn;
	rq->t_start_ns = uv_hrtime();
	rq->uri = strdup(uri ? uri : "");
	rq->next = s->inflight;
	if (s->inflight)
		s->inflight->prev = rq;
	s->inflight = rq;
	s->ninflight++;
	inflight_gauge(s);
	return rq;
}

/* Go's NewRequestID: "req-" and 20 base-36 characters. */
static void
new_request_id(char *out, size_t len)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[20];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	char *p = out + snprintf(out, len, "req-");
	for (size_t i = 0; i < sizeof(rnd) && (size_t)(p - out) + 1 < len; i++)
		*p++ = digits[rnd[i] % 36];
	*p = 0;
}

/* A client's X-Request-Id is kept when it is short and printable (it goes into the logs). */
static void
set_request_id(struct http_request *rq)
{
	const char *id = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Request-Id");
	size_t n = id ? strlen(id) : 0;
	int ok = n > 0 && n < sizeof(rq->request_id);
	for (size_t i = 0; ok && i < n; i++)
		ok = id[i] > 0x20 && id[i] < 0x7f;
	if (ok)
		memcpy(rq->request_id, id, n + 1);
	else
		new_request_id(rq->request_id, sizeof(rq->request_id));
}

static const char *
hdr(struct http_request *rq, const char *name)
{
	const char *v = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
	return v ? v : "";
}

void
http_remote_addr(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "";
	int port = 0;
	buf[0] = 0;
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	}
}

static void
log_request(struct http_request *rq)
{
	char ra[INET6_ADDRSTRLEN + 10];
	const char *q = strchr(rq->uri, '?');
	http_remote_addr(rq->conn, ra, sizeof(ra));
	log_kv(LOG_LVL_INFO, "request", LF_STR("RequestID", rq->request_id),
	       LF_STR("remoteAddr", ra), LF_STR("reqForwardedFor", hdr(rq, "X-Forwarded-For")),
	       LF_STR("reqMethod", rq->method), LF_STR("reqHost", hdr(rq, "Host")),
	       LF_STR("reqPath", rq->path[0] == '/' ? rq->path + 1 : rq->path),
	       LF_STR("reqQuery", q ? q + 1 : ""),
	       LF_INT("reqBytes", strtoll(hdr(rq, "Content-Length"), NULL, 10)));
}

static enum MHD_Result
queue_response(struct http_request *rq)
{
	struct http_response *w = &rq->resp;
	if (!w->status)
		http_respond_error(w, 500, "handler produced no response");
	struct MHD_Response *r = w->stream ? http_stream_response(rq)
					   : MHD_create_response_from_buffer_with_free_callback(
						     w->len, w->body, free);
	if (!r)
		return MHD_NO;
	w->body = NULL; /* MHD owns it (or the stream) now */
	MHD_add_response_header(r, "X-Request-Id", rq->request_id);
	if (w->content_type)
		MHD_add_response_header(r, "Content-Type", w->content_type);
	for (size_t i = 0; i < w->nheaders; i++)
		MHD_add_response_header(r, w->hname[i], w->hvalue[i]);
	enum MHD_Result ret = MHD_queue_response(rq->conn, w->status, r);
	MHD_destroy_response(r);
	rq->responded = true;
	rq->t_status_ns = uv_hrtime();
	return ret;
}

static enum MHD_Result
post_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
	  const char *content_type, const char *transfer_encoding, const char *data, uint64_t off,
	  size_t size)
{
	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
	struct http_request *rq = cls;
	size_t i = rq->nform;
	/* MHD hands a long value over in pieces; off > 0 continues the last key. */
	if (off > 0 && i > 0 && strcmp(rq->fkey[i - 1], key) == 0) {
		size_t had = strlen(rq->fval[i - 1]);
		char *v = realloc(rq->fval[i - 1], had + size + 1);
		if (!v)
			return MHD_NO;
		memcpy(v + had, data, size);
		v[had + size] = 0;
		rq->fval[i - 1] = v;
		return MHD_YES;
	}
	if (i == HTTP_MAX_FORM_PARAMS) {
		rq->bad_form = true;
		return MHD_NO;
	}
	rq->fkey[i] = strdup(key);
	rq->fval[i] = strndup(data ? data : "", size);
	rq->nform++;
	return rq->fkey[i] && rq->fval[i] ? MHD_YES : MHD_NO;
}

/* Body limits are checked on the head, so that an over-long body is refused with a status
 * instead of being read: MHD accepts a response only before or after the upload. */
static int
check_body_head(struct http_request *rq)
{
	const char *te = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
						     "Transfer-Encoding");
	const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Length");
	char msg[128];
	if (te && strcasestr(te, "chunked")) {
		http_respond_error(&rq->resp, 411, "request body must have a Content-Length");
		return -1;
	}
	if (cl && strtoull(cl, NULL, 10) > rq->srv->max_body) {
		snprintf(msg, sizeof(msg), "request body too large (limit %zu bytes)",
			 rq->srv->max_body);
		http_respond_error(&rq->resp, 413, msg);
		return -1;
	}
	const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
	if (cl && strtoull(cl, NULL, 10) > 0 && ct &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		rq->pp = MHD_create_post_processor(rq->conn, 1024, post_iter, rq);
	return 0;
}

struct http_conn *
http_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* The head is in: authorisation first (a client without the token never gets its body read,
 * so it cannot hold a connection by trickling one), then the body limits. */
static int
request_start(struct http_request *rq, const char *url, const char *method)
{
	struct http_conn *c = http_conn_of(rq->conn);
	if (c)
		c->waiting_since_ms = 0; /* the request deadline (request_since_ms) runs on */
	rq->started = true;
	rq->method = strdup(method);
	rq->path = strdup(url);
	if (!rq->method || !rq->path)
		return -ENOMEM;
	set_request_id(rq);
	log_request(rq);
	if (!http_front_authorize(rq->srv, rq))
		return -EACCES;
	return check_body_head(rq);
}

/* A deferred handler's wait does not count against the request deadline (the handler has its
 * own); the clock restarts when it answers, for writing the response. */
void
http_conn_pause(struct MHD_Connection *conn, bool paused)
{
	struct http_conn *c = http_conn_of(conn);
	if (!c)
		return;
	c->paused = paused;
	if (!paused)
		c->request_since_ms = adc_now_ms();
}

void
http_conn_suspend(struct MHD_Connection *conn)
{
	http_conn_pause(conn, true);
	MHD_suspend_connection(conn);
}

enum MHD_Result
http_request_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		    const char *version, const char *upload_data, size_t *upload_data_size,
		    void **con_cls)
{
	(void)cls, (void)conn, (void)version;
	struct http_request *rq = *con_cls;
	if (!rq)
		return MHD_NO;
	if (!rq->started) {
		int rc = request_start(rq, url, method);
		if (rc == -ENOMEM)
			return MHD_NO;
		return rc < 0 ? queue_response(rq) : MHD_YES;
	}
	if (*upload_data_size) {
		rq->body_bytes += *upload_data_size;
		/* Content-Length was checked; this only guards against MHD surprises. */
		if (rq->body_bytes > rq->srv->max_body)
			return MHD_NO;
		if (rq->pp && MHD_post_process(rq->pp, upload_data, *upload_data_size) != MHD_YES)
			rq->bad_form = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->responded)
		return MHD_YES;
	if (rq->deferred) {
		if (rq->resumed) {
			http_conn_pause(conn, false);
			return queue_response(rq);
		}
		http_conn_suspend(conn);
		return MHD_YES;
	}
	if (rq->bad_form)
		http_respond_error(&rq->resp, 400, "malformed or oversized form body");
	else
		http_front_dispatch(rq->srv, rq);
	if (rq->deferred) {
		/* Suspended until http_request_resume; MHD then calls us again (above). */
		http_conn_suspend(conn);
		return MHD_YES;
	}
	return queue_response(rq);
}

static void
request_metrics(struct http_request *rq, unsigned status, double total, double to_status)
{
	struct metrics_registry *m = rq->srv->metrics;
	if (!m || !rq->method)
		return;
	char code[12], method[16];
	snprintf(code, sizeof(code), "%u", status);
	/* promhttp labels methods in lower case. */
	size_t i = 0;
	for (; rq->method[i] && i + 1 < sizeof(method); i++)
		method[i] = (char)(rq->method[i] >= 'A' && rq->method[i] <= 'Z' ? rq->method[i] + 32
										: rq->method[i]);
	method[i] = 0;
	const char *lv[] = { code, method };
	metrics_observe(metrics_find(m, MET_REQUEST_DURATION), lv, total);
	metrics_observe(metrics_find(m, MET_TIME_TO_STATUS), lv, to_status);
}

static void
log_response(struct http_request *rq, enum MHD_RequestTerminationCode toe)
{
	uint64_t now = uv_hrtime();
	unsigned st = rq->responded ? rq->resp.status : 0;
	uint64_t ts = rq->responded ? rq->t_status_ns : now;
	double total = secs(now - rq->t_start_ns), to_status = secs(ts - rq->t_start_ns);
	const char *reason = MHD_get_reason_phrase_for(st);
	log_kv(LOG_LVL_INFO, "response", LF_STR("RequestID", rq->request_id),
	       LF_STR("reqMethod", rq->method), LF_STR("reqPath", rq->path + (rq->path[0] == '/')),
	       LF_INT("respStatusCode", st), LF_STR("respStatus", reason ? reason : ""),
	       LF_INT("respBytes", rq->resp.len), LF_DBL("timeTotal", total),
	       LF_DBL("timeToStatus", to_status), LF_DBL("timeWriteBody", total - to_status),
	       LF_BOOL("completed", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK));
	if (st)
		request_metrics(rq, st, total, to_status);
}

static void
request_free(struct http_request *rq)
{
	struct http_server *s = rq->srv;
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		s->inflight = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	s->ninflight--;
	inflight_gauge(s);
	if (rq->pp)
		MHD_destroy_post_processor(rq->pp);
	for (size_t i = 0; i < rq->nform; i++) {
		free(rq->fkey[i]);
		free(rq->fval[i]);
	}
	http_stream_detach(rq);
	http_response_reset(&rq->resp);
	free(rq->uri);
	free(rq->method);
	free(rq->path);
	free(rq);
}

void
http_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	struct http_request *rq = *con_cls;
	if (!rq)
		return;
	/* A request MHD refused itself (head too large...) never reached the access handler. */
	if (rq->started)
		log_response(rq, toe);
	struct http_conn *c = http_conn_of(conn);
	if (c) { /* keep-alive: the wait for the next request starts both deadlines */
		c->waiting_since_ms = c->request_since_ms = adc_now_ms();
		c->paused = false;
	}
	request_free(rq);
	*con_cls = NULL;
}

/* Accessors (http_server.h). */
const char *
http_request_method(const struct http_request *r)
{
	return r->method;
}

const char *
http_request_path(const struct http_request *r)
{
	return r->path;
}

const char *
http_request_id(const struct http_request *r)
{
	return r->request_id;
}

const char *
http_request_header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct http_request *
http_request_defer(const struct http_request *r)
{
	return (struct http_request *)r; /* the handler's view is const; the owner's is not */
}

struct http_response *
http_request_response(struct http_request *r)
{
	return &r->resp;
}

void
http_request_resume(struct http_request *r)
{
	if (!r->deferred || r->resumed)
		return;
	r->resumed = true;
	/* The next MHD_run calls the access handler again, which queues the response. MHD's
	 * own wake-up (its inter-thread channel) does not reach our poll in this mode: run it
	 * from the loop, soon, and never from inside the current MHD_run. */
	MHD_resume_connection(r->conn);
	http_server_kick(r->srv);
}

const char *
http_request_param(const struct http_request *r, const char *name)
{
	for (size_t i = 0; i < r->nform; i++)
		if (strcmp(r->fkey[i], name) == 0)
			return r->fval[i];
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}
