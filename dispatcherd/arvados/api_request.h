/*
 * api_request.h - one HTTP exchange of api_client: the request built from method, path and
 * parameters (spec 2.2), its curl easy handle, and the api_result made of the response.
 * Internal to api_client.
 */
#ifndef ADC_API_REQUEST_H
#define ADC_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "api_client.h"
#include "api_params.h"
#include "api_reqid.h"
#include "curl_uv.h"

/* What every request takes from its client. */
struct api_request_env {
	const char *auth_header; /* "Authorization: Bearer <token>" */
	bool insecure;
	const struct curl_blob *ca; /* NULL: curl's default trust */
	uint32_t connect_timeout_ms;
};

struct api_request {
	struct curl_uv_xfer xfer;	 /* xfer.easy is NULL until prepared */
	struct api_request *prev, *next; /* the client's queue or in-flight list */
	void *client;
	const char *verb;  /* the HTTP method sent */
	bool override_get; /* a long GET sent as POST */
	char *url;	   /* with the query for a short GET */
	char *what;	   /* "GET https://host/path" for error texts: no query */
	char *body;	   /* the form, for everything but a short GET */
	size_t body_len;
	uint32_t timeout_ms;
	char reqid[API_REQID_SIZE];
	struct curl_slist *headers;
	char *resp;
	size_t resp_len, resp_cap;
	char *errtext;
	char errbuf[CURL_ERROR_SIZE];
	api_cb cb;
	void *arg;
};

/* Build (no curl handle yet). base is "scheme://host[:port]". 0, or -EINVAL (unknown method,
 * empty path), -ENOMEM, or the request id generator's error. */
int api_request_new(const char *base, const char *method, const char *path,
		    const struct api_params *params, uint32_t timeout_ms, api_cb cb, void *arg,
		    struct api_request **out);

/* Create and configure the easy handle. 0 or -ENOMEM/-EIO. */
int api_request_prepare(struct api_request *r, const struct api_request_env *env);

/* Turn the finished transfer into a result; pointers in *out stay valid until
 * api_request_free (out->body until the caller frees or takes it). */
void api_request_result(struct api_request *r, CURLcode res, struct api_result *out);

/* A result for a request that never got an answer (cancelled, could not start). */
void api_request_failed(struct api_request *r, int err, const char *why, struct api_result *out);

/* Frees the easy handle too; wipes the header list, which holds the token. */
void api_request_free(struct api_request *r);

#endif
