/*
 * http_server.h - the management HTTP/1.1 server (spec/dispatcher.md sections 7 and 9) on
 * dispatcherd's libuv loop.
 *
 * libmicrohttpd parses HTTP; it runs in its "external select" mode with its own epoll fd, which
 * a uv_poll_t watches, and a uv_timer_t follows MHD_get_timeout: nothing blocks the loop and no
 * thread is started. Handlers run on the loop and answer at once, or later (HTTP_DEFER).
 *
 * Request path (spec 7.1, weakness 24 fixed, docs/MANAGEMENT_API.md): X-Request-Id, `request`
 * log entry, then /metrics, /metrics.json, GET /_health/ping and /_inspect/requests with their
 * own auth rules, then the dispatcher's rules (token required) and the route table (404, 405
 * with Allow). Every request gets a `response` log entry and feeds request_duration_seconds.
 */
#ifndef ADC_HTTP_SERVER_H
#define ADC_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "metrics.h"

struct http_server;
struct http_request;
struct http_response;

/* A handler fills resp (http_respond_*). Its return value is 0, or a negative errno for an
 * unexpected failure, which becomes a 500 unless the handler already chose a status. */
typedef int (*http_handler_fn)(void *ctx, const struct http_request *req,
			       struct http_response *resp);
/* The health check behind /_health/ping: NULL when healthy, else a static or ctx-owned
 * error text (returned as {"health":"ERROR","error":...}). */
typedef const char *(*http_health_fn)(void *ctx);

struct http_server_opts {
	uv_loop_t *loop;
	int listen_fd;			  /* listening socket, owned by the server from start on
					   (closed on failure too); -1: none (http_server_adopt) */
	const char *management_token;	  /* copied; NULL or "" = not configured */
	const char *tls_cert_pem;	  /* both set: serve https (copied) */
	const char *tls_key_pem;	  /* copied, wiped on close */
	unsigned max_connections;	  /* 0: 1000 */
	unsigned idle_timeout_s;	  /* no byte for this long closes a connection; 0: 30 */
	unsigned header_timeout_s;	  /* request head not complete after this: closed; 0: 30 */
	unsigned request_timeout_s;	  /* a request (head, body, response) not complete after
					   * this: closed; time in a deferred handler is not
					   * counted; 0: 60 */
	unsigned max_connections_per_ip;  /* 0: half of max_connections */
	size_t max_header_bytes;	  /* request line + headers; 0: 16 KiB */
	size_t max_body_bytes;		  /* 0: 64 KiB */
	struct metrics_registry *metrics; /* /metrics source and request metrics; may be NULL */
	http_health_fn health;		  /* NULL: always healthy */
	void *health_ctx;
};

/* A handler's return value: no response yet. The connection is suspended (libmicrohttpd's
 * suspend/resume) until http_request_resume; keep the request from http_request_defer. */
#define HTTP_DEFER 1

/* Start serving. 0 and *out, or a negative errno (listen_fd closed). */
int http_server_start(const struct http_server_opts *o, struct http_server **out);
/* Add a dispatcher route (exact path). -EEXIST for a duplicate, -ENOMEM. */
int http_server_route(struct http_server *s, const char *method, const char *path,
		      http_handler_fn fn, void *ctx);
/* Serve one already connected socket (socketpair in tests and the fuzz target). The server
 * owns fd afterwards. 0 or a negative errno. */
int http_server_adopt(struct http_server *s, int fd);
/* Stop: closes every connection and the listener; done(arg) runs once the handles are closed
 * (the loop must keep running until then); the server is freed before done is called. */
void http_server_close(struct http_server *s, void (*done)(void *arg), void *arg);

/* fn(arg) runs first thing in http_server_close, before the deferred requests still waiting
 * are answered 503 and the connections closed: the place to forget them. At most 4;
 * -ENOSPC beyond. */
int http_server_on_close(struct http_server *s, void (*fn)(void *arg), void *arg);

/* Loop time spent in the management code, for bench/mgmt: each MHD_run (reads, handlers,
 * writes) and each list-rendering slice is one "turn", timed with uv_hrtime around it. */
struct http_server_stats {
	uint64_t max_turn_ns, total_ns, turns;
};
void http_server_stats(struct http_server *s, struct http_server_stats *out, bool reset);
/* Add one turn of ns nanoseconds (code that runs on the loop for the server, outside MHD_run). */
void http_server_account(struct http_server *s, uint64_t ns);
uv_loop_t *http_server_loop(struct http_server *s);

/* Request accessors; strings live until the handler returns. */
const char *http_request_method(const struct http_request *r);
const char *http_request_path(const struct http_request *r);
/* A form parameter: the urlencoded body first, then the query string (Go's FormValue). */
const char *http_request_param(const struct http_request *r, const char *name);
const char *http_request_header(const struct http_request *r, const char *name);
const char *http_request_id(const struct http_request *r);
/* From a handler about to return HTTP_DEFER: the request, to answer later. It stays valid until
 * http_request_resume, or until the server's on_close hooks have run. */
struct http_request *http_request_defer(const struct http_request *r);
/* Where to put the deferred request's response before resuming it. */
struct http_response *http_request_response(struct http_request *r);
/* Send the response now filled in (an empty one becomes a 500). Never from inside a handler. */
void http_request_resume(struct http_request *r);

/* Response builders. Each replaces any body set before; 0 or -ENOMEM. */
int http_respond_json(struct http_response *w, unsigned status, cJSON *body); /* consumes body */
int http_respond_text(struct http_response *w, unsigned status, const char *text);
int http_respond_error(struct http_response *w, unsigned status, const char *msg);
int http_respond_empty(struct http_response *w, unsigned status);
int http_respond_raw(struct http_response *w, unsigned status, const char *content_type, char *body,
		     size_t len); /* consumes body (malloc'd) even on failure */
int http_respond_header(struct http_response *w, const char *name, const char *value);

/*
 * A body written while it is sent (http_stream.c): read(cls, pos, buf, max) copies the bytes
 * from offset pos (at most max) and returns how many, or HTTP_STREAM_WAIT when none are ready
 * yet (the connection then waits, its request deadline paused, until http_stream_wake),
 * HTTP_STREAM_END, or HTTP_STREAM_ERROR (the connection is closed: the client sees a cut
 * body). len is the body's length, or HTTP_STREAM_LEN_UNKNOWN: no Content-Length, so chunked
 * in HTTP/1.1 (as Go's server sends a handler's body over 2 KB with no length set). release(cls) is called
 * exactly once, when the response no longer needs it (sent, replaced, failed). *out (may be
 * NULL) is the handle for http_stream_wake, valid until then.
 */
#define HTTP_STREAM_WAIT	0
#define HTTP_STREAM_END		(-1)
#define HTTP_STREAM_ERROR	(-2)
#define HTTP_STREAM_LEN_UNKNOWN UINT64_MAX
struct http_stream;
typedef long (*http_stream_read_fn)(void *cls, uint64_t pos, char *buf, size_t max);
int http_respond_stream(struct http_response *w, unsigned status, const char *content_type,
			uint64_t len, http_stream_read_fn read, void (*release)(void *cls),
			void *cls, struct http_stream **out);
/* Bytes are ready for a stream that returned HTTP_STREAM_WAIT (or it should end): its reader
 * is asked again on a later loop turn. Never from inside MHD_run (a content reader). */
void http_stream_wake(struct http_stream *st);

#endif
