/* http_internal.h - the server's data, shared by the http_*.c files only. */
#ifndef ADC_HTTP_INTERNAL_H
#define ADC_HTTP_INTERNAL_H

#include <microhttpd.h>

#include "http_server.h"

#define HTTP_MAX_FORM_PARAMS  16
#define HTTP_MAX_RESP_HEADERS 4
#define HTTP_MAX_CLOSERS      4

struct http_route {
	char *method, *path;
	http_handler_fn fn;
	void *ctx;
};

/* One TCP connection (MHD's socket context), for the request-head and request deadlines. */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	uint64_t waiting_since_ms; /* head deadline: 0 once the head is in */
	uint64_t request_since_ms; /* total deadline: since the wait for this request began */
	bool paused;		   /* in a deferred handler: the total deadline waits */
	bool cut;		   /* shut down by the deadline sweeper */
};

struct http_response {
	unsigned status;
	char *body;
	size_t len;
	struct http_stream *stream; /* set: the body is streamed (http_stream.c) */
	const char *content_type;
	char *hname[HTTP_MAX_RESP_HEADERS], *hvalue[HTTP_MAX_RESP_HEADERS];
	size_t nheaders;
};

struct http_request {
	struct http_request *prev, *next; /* in-flight list (/_inspect/requests) */
	struct http_server *srv;
	struct MHD_Connection *conn;
	char *uri; /* raw request target, with the query */
	char *method, *path;
	char request_id[64];
	uint64_t t_start_ns, t_status_ns;
	bool started, responded, bad_form;
	bool deferred, resumed; /* HTTP_DEFER: suspended until http_request_resume */
	size_t body_bytes;
	struct MHD_PostProcessor *pp;
	struct http_stream *stream; /* its streamed response, while MHD holds it */
	char *fkey[HTTP_MAX_FORM_PARAMS], *fval[HTTP_MAX_FORM_PARAMS];
	size_t nform;
	struct http_response resp;
};

struct http_server {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer, sweep;
	int nclosing;
	void (*done)(void *);
	void *done_arg;
	char *token;
	size_t token_len;
	char *tls_cert, *tls_key;
	unsigned header_timeout_s, request_timeout_s;
	size_t max_body;
	struct metrics_registry *metrics;
	http_health_fn health;
	void *health_ctx;
	struct http_route *routes;
	size_t nroutes;
	struct http_request *inflight;
	size_t ninflight;
	struct http_conn *conns;
	struct http_server_stats stats;
	struct {
		void (*fn)(void *);
		void *arg;
	} closers[HTTP_MAX_CLOSERS];
	size_t ncloser;
};

/* http_front.c: the request path of spec 7.1 after the body is in. */
void http_front_dispatch(struct http_server *s, struct http_request *rq);
/* http_front.c: the authorisation step of that path, on the head alone (before any body is
 * read): 1 when the request may go on, else 0 with the 401/403/404 response set. */
int http_front_authorize(struct http_server *s, struct http_request *rq);
int http_front_register_builtin(struct http_server *s);
/* http_router.c: the dispatcher's route table. */
void http_router_dispatch(struct http_server *s, struct http_request *rq);
void http_router_free(struct http_server *s);
/* http_request.c: the connection's deadline state (NULL when it has none). */
struct http_conn *http_conn_of(struct MHD_Connection *conn);
/* http_request.c: a deferred handler's or a stream's wait does not count against the request
 * deadline; the clock restarts when it ends. */
void http_conn_pause(struct MHD_Connection *conn, bool paused);
/* http_request.c: pause the deadline and suspend the connection (MHD_suspend_connection): a
 * deferred handler's or a stream's wait starts. */
void http_conn_suspend(struct MHD_Connection *conn);
/* http_request.c: "host:port" of the client, "" when unknown. */
void http_remote_addr(struct MHD_Connection *conn, char *buf, size_t len);
/* http_server.c: MHD_run on the next loop turn. */
void http_server_kick(struct http_server *s);
/* http_response.c */
void http_response_reset(struct http_response *w);

/* http_stream.c */
struct http_stream {
	struct http_request *rq; /* NULL until queued, and once the request is over */
	http_stream_read_fn read;
	void (*release)(void *cls);
	void *cls;
	uint64_t len;
	bool waiting; /* its connection is suspended until http_stream_wake */
};
/* The MHD response for rq's stream (rq->resp.stream, which it takes over); NULL on ENOMEM. */
struct MHD_Response *http_stream_response(struct http_request *rq);
/* Release a stream that never reached MHD. */
void http_stream_drop(struct http_stream *st);
/* The request is over: its stream (if MHD still holds it) must not touch it. */
void http_stream_detach(struct http_request *rq);

#endif
