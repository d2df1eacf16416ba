/* api_request.c - see api_request.h. */
#include "api_request.h"
#include "api_error.h"
#include "api_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *
api_request_verb(const char *method)
{
	static const char *const verbs[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (method != NULL && strcmp(method, verbs[i]) == 0)
			return verbs[i];
	return NULL;
}

/* Fills url, what and body from the encoded form (which it takes). */
static int
api_request_place_form(struct api_request *r, const char *base, const char *path, char *form,
		       size_t form_len)
{
	const char *orig = r->verb;
	int n;

	if (strcmp(r->verb, "GET") == 0 && form_len >= API_FORM_GET_LIMIT) {
		/* Too long for a query string: the server honours the override header. */
		r->verb = "POST";
		r->override_get = true;
	}
	if (strcmp(r->verb, "GET") == 0) {
		n = asprintf(&r->url, "%s/%s%s%s", base, path, form_len ? "?" : "", form);
		free(form);
	} else {
		r->body = form;
		r->body_len = form_len;
		n = asprintf(&r->url, "%s/%s", base, path);
	}
	if (n < 0) {
		r->url = NULL;
		return -ENOMEM;
	}
	if (asprintf(&r->what, "%s %s/%s", orig, base, path) < 0) {
		r->what = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* A path is joined to the base as is: no query, fragment, space or control characters. */
static bool
api_request_path_ok(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return false;
	for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++)
		if (*c <= 0x20 || *c >= 0x7f || *c == '?' || *c == '#')
			return false;
	return true;
}

int
api_request_new(const char *base, const char *method, const char *path,
		const struct api_params *params, uint32_t timeout_ms, api_cb cb, void *arg,
		struct api_request **out)
{
	struct api_request *r;
	char *form = NULL;
	size_t form_len = 0;
	int rc;

	*out = NULL;
	if (path != NULL && path[0] == '/')
		path++;
	if (api_request_verb(method) == NULL || !api_request_path_ok(path) || cb == NULL)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->verb = api_request_verb(method);
	r->timeout_ms = timeout_ms;
	r->cb = cb;
	r->arg = arg;
	rc = api_reqid_new(r->reqid);
	if (rc == 0 && params != NULL)
		rc = api_params_encode(params, &form, &form_len);
	else if (rc == 0 && (form = strdup("")) == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = api_request_place_form(r, base, path, form, form_len);
	else
		free(form);
	if (rc != 0) {
		api_request_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static size_t
api_request_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct api_request *r = userp;
	size_t n = size * nmemb;

	if (!curl_uv_append(&r->resp, &r->resp_len, &r->resp_cap, API_MAX_RESPONSE, data, n))
		return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
	return n;
}

static int
api_request_headers(struct api_request *r, const struct api_request_env *env)
{
	char idh[16 + API_REQID_SIZE];
	const char *h[5];
	size_t n = 0;

	snprintf(idh, sizeof(idh), "X-Request-Id: %s", r->reqid);
	h[n++] = env->auth_header;
	h[n++] = idh;
	h[n++] = "Content-Type: application/x-www-form-urlencoded";
	h[n++] = "Expect:"; /* never wait for 100-continue */
	if (r->override_get)
		h[n++] = "X-Http-Method-Override: GET";
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *l = curl_slist_append(r->headers, h[i]);
		if (l == NULL)
			return -ENOMEM;
		r->headers = l;
	}
	return 0;
}

static int
api_request_method(struct api_request *r)
{
	CURL *e = r->xfer.easy;

	if (strcmp(r->verb, "GET") == 0)
		return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK ? 0 : -EIO;
	/* POSTFIELDS does not copy: the body lives as long as the request. */
	if (curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) != CURLE_OK)
		return -EIO;
	if (strcmp(r->verb, "POST") != 0 &&
	    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->verb) != CURLE_OK)
		return -EIO;
	return 0;
}

static int
api_request_tls(struct api_request *r, const struct api_request_env *env)
{
	CURL *e = r->xfer.easy;
	long verify = env->insecure ? 0L : 1L;

	if (curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) != CURLE_OK)
		return -EIO;
	if (env->ca == NULL)
		return 0;
	/* Only the given anchors: not also the system directory. */
	if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, env->ca) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CAINFO, NULL) != CURLE_OK)
		return -EIO;
	return 0;
}

int
api_request_prepare(struct api_request *r, const struct api_request_env *env)
{
	CURL *e = curl_easy_init();
	int rc;

	if (e == NULL)
		return -ENOMEM;
	r->xfer.easy = e;
	r->errbuf[0] = '\0';
	rc = api_request_headers(r, env);
	if (rc == 0)
		rc = api_request_method(r);
	if (rc == 0)
		rc = api_request_tls(r, env);
	if (rc != 0)
		return rc;
	if (curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)env->connect_timeout_ms) !=
		    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "arvados-dispatch-cloud (C)") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, api_request_write) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK)
		return -EIO;
	return 0;
}

static void
api_request_set_error(struct api_request *r, struct api_result *out, int err, char *text)
{
	free(r->errtext);
	r->errtext = text;
	out->err = err;
	out->error = text != NULL ? text : "out of memory while describing an error";
}

static void
api_request_json(struct api_request *r, struct api_result *out)
{
	size_t where = 0;
	char *t = NULL;
	int rc;

	if (r->resp_len == 0) {
		if (asprintf(&t, "request failed: %s: 200 OK with an empty body", r->what) < 0)
			t = NULL;
		api_request_set_error(r, out, -EBADMSG, t);
		return;
	}
	rc = api_json_parse(r->resp, r->resp_len, &out->body, &where);
	if (rc == -EBADMSG) {
		if (asprintf(&t,
			     "request failed: %s: malformed JSON in the response body "
			     "(%zu bytes, error near byte %zu)",
			     r->what, r->resp_len, where) < 0)
			t = NULL;
		api_request_set_error(r, out, rc, t);
	} else if (rc != 0) {
		api_request_set_error(r, out, rc, NULL);
	}
}

void
api_request_result(struct api_request *r, CURLcode res, struct api_result *out)
{
	*out = (struct api_result){ .request_id = r->reqid };
	if (res != CURLE_OK) {
		api_request_set_error(r, out, api_error_curl_code(res),
				      api_error_transport(r->what, res, r->errbuf));
		return;
	}
	curl_easy_getinfo(r->xfer.easy, CURLINFO_RESPONSE_CODE, &out->status);
	if (out->status == 200)
		api_request_json(r, out);
	else if (out->status != 204)
		api_request_set_error(r, out, -EREMOTEIO,
				      api_error_http(r->what, out->status, r->resp, r->resp_len));
}

void
api_request_failed(struct api_request *r, int err, const char *why, struct api_result *out)
{
	char *t = NULL;

	*out = (struct api_result){ .request_id = r->reqid };
	if (asprintf(&t, "request failed: %s: %s", r->what, why) < 0)
		t = NULL;
	api_request_set_error(r, out, err, t);
}

void
api_request_free(struct api_request *r)
{
	if (r == NULL)
		return;
	if (r->xfer.easy != NULL)
		curl_easy_cleanup(r->xfer.easy);
	for (struct curl_slist *l = r->headers; l != NULL; l = l->next)
		adc_wipe(l->data, strlen(l->data));
	curl_slist_free_all(r->headers);
	free(r->url);
	free(r->what);
	free(r->body);
	free(r->resp);
	free(r->errtext);
	free(r);
}
