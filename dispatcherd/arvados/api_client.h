/*
 * api_client.h - asynchronous client for the Arvados API server (spec/dispatcher.md 2.1, 2.2),
 * on the process's libuv loop through curl_uv.
 *
 * Every request carries "Authorization: Bearer <token>", a fresh "X-Request-Id: req-<20
 * base-36>" and "Content-Type: application/x-www-form-urlencoded". Parameters are encoded by
 * api_params; a GET whose form is 1000 bytes or more goes as POST with
 * "X-Http-Method-Override: GET". Requests beyond the concurrency limiter (api_limiter) wait in
 * a FIFO in memory; none is dropped. Unlike the reference, every request has a connect and a
 * total timeout (docs/API_CLIENT.md). No retries: callers handle failures.
 *
 * The token never appears in any error text this module produces.
 */
#ifndef ADC_API_CLIENT_H
#define ADC_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "api_params.h"

struct cfg_cluster;
struct api_client;

#define API_CONNECT_TIMEOUT_MS 10000u
#define API_TIMEOUT_MS	       30000u	   /* single-object calls: get, lock, unlock, update */
#define API_LIST_TIMEOUT_MS    60000u	   /* list pages of up to 1000 records */
#define API_FORM_GET_LIMIT     1000u	   /* encoded forms this long or longer go in a POST body */
#define API_MAX_RESPONSE       (64u << 20) /* larger responses fail with -EFBIG */

struct api_client_opts {
	const char *controller_url; /* Services.Controller.ExternalURL; scheme defaults to https */
	const char *token;	    /* SystemRootToken; copied */
	bool insecure;		    /* TLS.Insecure: no certificate or host name check */
	int64_t max_concurrent_requests; /* API.MaxConcurrentRequests (the limiter caps at 1/4) */
	/* Trust anchors: a PEM file read at creation, or PEM text in memory; neither: curl's
	 * default bundle (read by curl when it connects). */
	const char *ca_file;
	const char *ca_pem;
	size_t ca_pem_len;
	uint32_t connect_timeout_ms; /* 0: API_CONNECT_TIMEOUT_MS */
	uint32_t timeout_ms;	     /* 0: API_TIMEOUT_MS */
	uint32_t list_timeout_ms;    /* 0: API_LIST_TIMEOUT_MS */
};

/*
 * The outcome of one request, passed to its callback. err is 0 on success (status 200 with a
 * JSON body in body, or 204 with body NULL), else negative:
 *   -EREMOTEIO    the server answered another status (status says which; error holds the
 *                 server's "errors" messages)
 *   -EBADMSG      200 with an empty or malformed JSON body
 *   -ETIMEDOUT    connect or total timeout
 *   -ECONNREFUSED could not connect (or resolve)
 *   -EKEYREJECTED TLS certificate not trusted; -ECONNABORTED other TLS failure
 *   -ECONNRESET   connection lost; -EFBIG response over API_MAX_RESPONSE; -EIO other
 *   -ECANCELED    the client was freed first
 *   -ENOMEM
 * body belongs to the result: a callback that keeps it sets r->body = NULL.
 */
struct api_result {
	int err;
	long status; /* HTTP status; 0 when no response */
	cJSON *body;
	const char *error;	/* text when err != 0 */
	const char *request_id; /* the X-Request-Id sent */
};

typedef void (*api_cb)(void *arg, struct api_result *r);

/* Create a client. 0, or -EINVAL (bad URL: *error says why, e.g. an empty host), -ENOENT
 * (ca_file unreadable), -ENOMEM, -EIO. *error (may be NULL) is set on failure; caller frees. */
int api_client_new(uv_loop_t *loop, const struct api_client_opts *o, struct api_client **out,
		   char **error);

/* Options from the cluster config (pointers into cfg; cfg must outlive api_client_new). */
void api_client_opts_from_cfg(const struct cfg_cluster *cfg, struct api_client_opts *o);

/*
 * Start a request: method GET, POST, PUT, PATCH or DELETE; path relative to the controller
 * ("arvados/v1/containers", a leading '/' is allowed); params may be NULL and stay the
 * caller's (encoded now). cb is called exactly once, never from inside api_call. 0, or -EINVAL
 * (bad method/path), -ECANCELED (client closing), -ENOMEM; on failure cb is never called.
 */
int api_call(struct api_client *c, const char *method, const char *path,
	     const struct api_params *params, api_cb cb, void *arg);
/* The same with the list timeout: for paged list calls. */
int api_list(struct api_client *c, const char *path, const struct api_params *params, api_cb cb,
	     void *arg);

/* Wall-clock time (Unix ms) of the most recent 503 response, 0 if none (spec 4.3). */
uint64_t api_client_last_503(const struct api_client *c);

struct api_client_stats {
	int64_t limit, peak_limit; /* the limiter's current and highest limit */
	int64_t in_flight, peak_in_flight;
	size_t queued;
};
void api_client_stats(const struct api_client *c, struct api_client_stats *s);

/* Shut down: every queued or in-flight request's callback runs now with -ECANCELED; handles
 * close asynchronously and closed(arg) (may be NULL) runs once the loop holds nothing of the
 * client. Safe inside a request callback. The token copy is wiped. */
void api_client_free(struct api_client *c, void (*closed)(void *arg), void *arg);

#endif
