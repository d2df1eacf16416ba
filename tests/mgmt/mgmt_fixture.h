/* mgmt_fixture.h - a management server on its own libuv loop thread, and a libcurl client. */
#ifndef ADC_MGMT_FIXTURE_H
#define ADC_MGMT_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

#include "http_server.h"
#include "metrics.h"
#include "mgmt_api.h"

/* Fakes for the scheduler/pool providers: one known container and one known instance. */
#define FAKE_CTR  "zzzzz-dz642-queuedcontainer"
#define FAKE_INST "i-0abc"

struct fake_pool {
	bool enabled; /* false: NULL providers (empty queue and pool) */
	int calls;
	enum mgmt_instance_action last_action;
	char last_id[128], last_reason[600];
};

struct fixture {
	uv_loop_t loop;
	uv_async_t stop;
	pthread_t thread;
	struct http_server *srv;
	struct metrics_registry *metrics;
	struct mgmt_providers prov;
	struct fake_pool fake;
	int port;
	const char *health_error;
};

struct fixture_opts {
	const char *token;
	bool fake_providers;
	unsigned header_timeout_s, request_timeout_s, max_connections, max_connections_per_ip;
	size_t max_header_bytes, max_body_bytes;
	const char *tls_cert_pem, *tls_key_pem;
	int listen_fd;				/* -1: make one on 127.0.0.1:0 */
	const struct mgmt_providers *providers; /* set: these instead of the fakes (not copied) */
	const struct mgmt_api_opts *api_opts;	/* NULL: defaults */
};

/* 0, or fails the test. */
void fixture_start(struct fixture *f, const struct fixture_opts *o);
void fixture_stop(struct fixture *f);
/* Serve an already set up fixture on the calling thread until fixture_stop (socket-activated
 * child). */
void fixture_setup_loop(struct fixture *f, const struct fixture_opts *o, int listen_fd);

struct reply {
	long status;
	char *body;
	char *headers;
	int curl_rc;
};

/* method, url path (with query), extra header lines (NULL-terminated), body or NULL. */
void http_call(const char *base, const char *method, const char *path, const char *const *hdrs,
	       const char *body, struct reply *out);
void reply_free(struct reply *r);
/* A listening socket on addr (an IPv4 literal) at a port the kernel picks, and that port. A
 * test that closes it to let the code under test bind the port must pick it on the address
 * that code binds: a port free on 127.0.0.1 may be taken on 127.0.0.2 (issue 18). */
int listen_on(const char *addr, int *port);
int listen_loopback(int *port); /* listen_on("127.0.0.1", port) */
/* A self-signed certificate for 127.0.0.1 and its key (openssl), in a new directory made from
 * the mkdtemp template dir; their paths in cert and key (128 bytes each). Fails the test. */
void tls_cert_make(char *dir, char *cert, char *key);
/* Remove what tls_cert_make made. */
void tls_cert_remove(const char *dir);

#endif
