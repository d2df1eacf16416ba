/* api_client.c - see api_client.h. This file holds the client's lifecycle, the FIFO of waiting
 * requests and the limiter; api_request.c builds and reads each HTTP exchange. */
#include "api_client.h"
#include "api_limiter.h"
#include "api_request.h"
#include "curl_uv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "util.h"

struct api_client {
	uv_loop_t *loop;
	struct curl_uv *cu;
	uv_timer_t wake;   /* ends the limiter's quiet period */
	char *base;	   /* "scheme://host[:port]" */
	char *token;	   /* secret: wiped on free */
	char *auth_header; /* secret: wiped on free */
	struct api_request_env env;
	struct curl_blob ca;
	char *ca_data;
	uint32_t timeout_ms, list_timeout_ms;
	struct api_limiter lim;
	uint64_t last503;		     /* Unix ms */
	struct api_request *q_head, *q_tail; /* waiting, oldest first */
	struct api_request *active;	     /* in flight */
	size_t queued;
	bool closing;
	int open_handles;
	void (*closed)(void *arg);
	void *closed_arg;
};

static uint64_t
api_client_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
api_client_set_error(char **error, const char *fmt, const char *arg)
{
	if (error != NULL && asprintf(error, fmt, arg) < 0)
		*error = NULL;
}

/* "scheme://host[:port]" from Services.Controller.ExternalURL, using curl's URL parser. */
static int
api_client_base(const char *ext, char **base, char **error)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -EINVAL;

	*base = NULL;
	if (u == NULL)
		return -ENOMEM;
	if (ext == NULL || ext[0] == '\0') {
		api_client_set_error(error, "%sServices.Controller.ExternalURL is empty", "");
	} else if (curl_url_set(u, CURLUPART_URL, ext,
				CURLU_DEFAULT_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
		   curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		   curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		api_client_set_error(error, "Services.Controller.ExternalURL %s: no host", ext);
	} else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		api_client_set_error(error,
				     "Services.Controller.ExternalURL %s: scheme must be "
				     "http or https",
				     ext);
	} else {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		if (asprintf(base, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "") <
		    0) {
			*base = NULL;
			rc = -ENOMEM;
		} else {
			rc = 0;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int
api_client_read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (f == NULL)
		return errno == ENOMEM ? -ENOMEM : -ENOENT;
	for (;;) {
		if (n == cap) {
			char *p = realloc(buf, cap ? cap * 2 : 65536);
			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = p;
			cap = cap ? cap * 2 : 65536;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			rc = ferror(f) ? -EIO : 0;
			break;
		}
	}
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = n;
	return 0;
}

static int
api_client_trust(struct api_client *c, const struct api_client_opts *o, char **error)
{
	size_t len = 0;
	int rc;

	if (o->ca_file != NULL) {
		rc = api_client_read_file(o->ca_file, &c->ca_data, &len);
		if (rc != 0) {
			api_client_set_error(error, "cannot read CA file %s", o->ca_file);
			return rc;
		}
	} else if (o->ca_pem != NULL) {
		c->ca_data = malloc(o->ca_pem_len ? o->ca_pem_len : 1);
		if (c->ca_data == NULL)
			return -ENOMEM;
		memcpy(c->ca_data, o->ca_pem, o->ca_pem_len);
		len = o->ca_pem_len;
	} else {
		return 0;
	}
	/* Requests point at this copy (no per-request copy); it lives as long as the client. */
	c->ca = (struct curl_blob){ .data = c->ca_data, .len = len, .flags = CURL_BLOB_NOCOPY };
	c->env.ca = &c->ca;
	return 0;
}

static int
api_client_secrets(struct api_client *c, const char *token)
{
	if (token == NULL)
		token = "";
	c->token = strdup(token);
	if (c->token == NULL)
		return -ENOMEM;
	if (asprintf(&c->auth_header, "Authorization: Bearer %s", token) < 0) {
		c->auth_header = NULL;
		return -ENOMEM;
	}
	c->env.auth_header = c->auth_header;
	return 0;
}

static void
api_client_free_now(struct api_client *c)
{
	adc_free_secret_str(c->token);
	adc_free_secret_str(c->auth_header);
	free(c->base);
	free(c->ca_data);
	free(c);
	curl_global_cleanup();
}

static int
api_client_setup(struct api_client *c, const struct api_client_opts *o, char **error)
{
	int rc = api_client_base(o->controller_url, &c->base, error);

	if (rc == 0)
		rc = api_client_secrets(c, o->token);
	if (rc == 0)
		rc = api_client_trust(c, o, error);
	if (rc == 0)
		rc = curl_uv_new(c->loop, &c->cu);
	if (rc == 0 && uv_timer_init(c->loop, &c->wake) != 0) {
		curl_uv_close(c->cu, NULL, NULL);
		rc = -EIO;
	}
	return rc;
}

int
api_client_new(uv_loop_t *loop, const struct api_client_opts *o, struct api_client **out,
	       char **error)
{
	struct api_client *c;
	int rc;

	*out = NULL;
	if (error != NULL)
		*error = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	c->loop = loop;
	c->env.insecure = o->insecure;
	c->env.connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
							  : API_CONNECT_TIMEOUT_MS;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : API_TIMEOUT_MS;
	c->list_timeout_ms = o->list_timeout_ms ? o->list_timeout_ms : API_LIST_TIMEOUT_MS;
	api_limiter_init(&c->lim, o->max_concurrent_requests);
	rc = api_client_setup(c, o, error);
	if (rc != 0) {
		api_client_free_now(c);
		return rc;
	}
	c->wake.data = c;
	*out = c;
	return 0;
}

void
api_client_opts_from_cfg(const struct cfg_cluster *cfg, struct api_client_opts *o)
{
	*o = (struct api_client_opts){
		.controller_url = cfg->controller_external_url,
		.token = cfg->system_root_token,
		.insecure = cfg->tls_insecure,
		.max_concurrent_requests = cfg->api_max_concurrent_requests,
	};
}

/* Defence in depth: no error text leaves with the token in it, whatever curl said. */
static void
api_client_scrub(const struct api_client *c, char *text)
{
	size_t n = c->token != NULL ? strlen(c->token) : 0;

	if (text == NULL || n == 0)
		return;
	for (char *p = strstr(text, c->token); p != NULL; p = strstr(p + n, c->token))
		memset(p, '*', n);
}

static void
api_client_finish(struct api_client *c, struct api_request *r, struct api_result *out)
{
	api_client_scrub(c, r->errtext);
	r->cb(r->arg, out);
	cJSON_Delete(out->body);
	api_request_free(r);
}

static void
api_client_fail(struct api_client *c, struct api_request *r, int err, const char *why)
{
	struct api_result out;

	api_request_failed(r, err, why, &out);
	api_client_finish(c, r, &out);
}

static void
api_client_unlink(struct api_request **head, struct api_request *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		*head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void api_client_drain(struct api_client *c);

static void
api_client_done(struct curl_uv_xfer *x, CURLcode res)
{
	struct api_request *r = (struct api_request *)x;
	struct api_client *c = r->client;
	struct api_result out;
	long status = 0;

	if (res == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	} else {
		/* A proxy's 503 to CONNECT counts too, as in the reference. */
		long proxy = 0;
		curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE, &proxy);
		if (proxy == 503)
			status = 503;
	}
	if (api_limiter_report(&c->lim, status, uv_now(c->loop)))
		c->last503 = api_client_wall_ms();
	api_limiter_release(&c->lim);
	api_client_unlink(&c->active, r);
	api_request_result(r, res, &out);
	api_client_finish(c, r, &out);
	if (!c->closing)
		api_client_drain(c);
}

static int
api_client_start(struct api_client *c, struct api_request *r)
{
	int rc = api_request_prepare(r, &c->env);

	if (rc == 0) {
		r->xfer.done = api_client_done;
		rc = curl_uv_add(c->cu, &r->xfer);
	}
	if (rc != 0)
		return rc;
	api_limiter_acquire(&c->lim);
	r->prev = NULL;
	r->next = c->active;
	if (c->active != NULL)
		c->active->prev = r;
	c->active = r;
	return 0;
}

static void
api_client_on_wake(uv_timer_t *t)
{
	api_client_drain(t->data);
}

/* Start waiting requests, oldest first, while the limiter allows. */
static void
api_client_drain(struct api_client *c)
{
	while (c->q_head != NULL && !c->closing) {
		uint64_t now = uv_now(c->loop);
		if (!api_limiter_may_start(&c->lim, now)) {
			uint64_t wait = api_limiter_wait_ms(&c->lim, now);
			if (wait > 0)
				uv_timer_start(&c->wake, api_client_on_wake, wait, 0);
			return;
		}
		struct api_request *r = c->q_head;
		api_client_unlink(&c->q_head, r);
		if (c->q_head == NULL)
			c->q_tail = NULL;
		c->queued--;
		int rc = api_client_start(c, r);
		if (rc != 0)
			api_client_fail(c, r, rc, "could not start the request");
	}
}

static void
api_client_enqueue(struct api_client *c, struct api_request *r)
{
	r->next = NULL;
	r->prev = c->q_tail;
	if (c->q_tail != NULL)
		c->q_tail->next = r;
	else
		c->q_head = r;
	c->q_tail = r;
	c->queued++;
}

static int
api_client_submit(struct api_client *c, const char *method, const char *path,
		  const struct api_params *params, uint32_t timeout_ms, api_cb cb, void *arg)
{
	struct api_request *r;
	int rc;

	if (c->closing)
		return -ECANCELED;
	rc = api_request_new(c->base, method, path, params, timeout_ms, cb, arg, &r);
	if (rc != 0)
		return rc;
	r->client = c;
	if (c->q_head == NULL && api_limiter_may_start(&c->lim, uv_now(c->loop))) {
		rc = api_client_start(c, r);
		if (rc != 0)
			api_request_free(r);
		return rc;
	}
	api_client_enqueue(c, r);
	/* Arms the wake timer when only the quiet period holds it back. */
	api_client_drain(c);
	return 0;
}

int
api_call(struct api_client *c, const char *method, const char *path,
	 const struct api_params *params, api_cb cb, void *arg)
{
	return api_client_submit(c, method, path, params, c->timeout_ms, cb, arg);
}

int
api_list(struct api_client *c, const char *path, const struct api_params *params, api_cb cb,
	 void *arg)
{
	return api_client_submit(c, "GET", path, params, c->list_timeout_ms, cb, arg);
}

uint64_t
api_client_last_503(const struct api_client *c)
{
	return c->last503;
}

void
api_client_stats(const struct api_client *c, struct api_client_stats *s)
{
	*s = (struct api_client_stats){
		.limit = c->lim.limit,
		.peak_limit = c->lim.peak_limit,
		.in_flight = c->lim.in_flight,
		.peak_in_flight = c->lim.peak_in_flight,
		.queued = c->queued,
	};
}

static void
api_client_handle_closed(void *arg)
{
	struct api_client *c = arg;

	if (--c->open_handles > 0)
		return;
	void (*closed)(void *) = c->closed;
	void *closed_arg = c->closed_arg;
	api_client_free_now(c);
	if (closed != NULL)
		closed(closed_arg);
}

static void
api_client_wake_closed(uv_handle_t *h)
{
	api_client_handle_closed(h->data);
}

void
api_client_free(struct api_client *c, void (*closed)(void *arg), void *arg)
{
	struct api_request *r;

	if (c == NULL || c->closing)
		return;
	c->closing = true;
	c->closed = closed;
	c->closed_arg = arg;
	uv_timer_stop(&c->wake);
	while ((r = c->q_head) != NULL) {
		api_client_unlink(&c->q_head, r);
		c->queued--;
		api_client_fail(c, r, -ECANCELED, "the API client shut down first");
	}
	c->q_tail = NULL;
	while ((r = c->active) != NULL) {
		api_client_unlink(&c->active, r);
		curl_uv_remove(c->cu, &r->xfer);
		api_limiter_release(&c->lim);
		api_client_fail(c, r, -ECANCELED, "the API client shut down first");
	}
	c->open_handles = 2;
	curl_uv_close(c->cu, api_client_handle_closed, c);
	uv_close((uv_handle_t *)&c->wake, api_client_wake_closed);
}
