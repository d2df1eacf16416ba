/*
 * azure_http.c - the AAD token, one ARM request, and long-running operations (spec 3.2, 3.3).
 *
 * Every request waits for a valid token (fetched lazily, one fetch shared by all waiters,
 * refreshed 5 minutes before expires_on). A long-running PUT/DELETE is polled through
 * Azure-AsyncOperation, else Location, else the resource's provisioningState, with the
 * answer's Retry-After as the delay (default poll_default_ms, at most 60 s), bounded by
 * lro_ms in total; a failed poll (transport, 429, 5xx) is retried up to 3 times. The first
 * request of an operation is never retried: the dispatcher's throttle is the retry layer
 * (drv.h), except once after a 401 for an expired or invalid token (a new token is fetched)
 * and once after a 409 MissingSubscriptionRegistration (the namespace is registered first).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

#define AZ_TOKEN_MARGIN_S 300
#define AZ_POLL_MAX_MS	  60000
#define AZ_POLL_RETRIES	  3

enum { AZP_INITIAL, AZP_POLL, AZP_FINAL };
enum { AZK_NONE, AZK_ASYNC, AZK_LOCATION, AZK_RESOURCE };

struct az_req {
	struct azure_driver *d;
	char method[8];
	char *url, *body, *poll_url;
	int flags;
	char what[48];
	bool has_it, spot;
	char it_name[64], it_ptype[64];
	az_cb cb;
	void *arg;
	uv_timer_t timer;
	int phase, poll_kind, poll_failures;
	bool retried_401, retried_reg;
	int64_t deadline_ms;
	struct drv_error early; /* az_fail_later */
	struct az_req *next_waiter;
};

int64_t
az_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
az_hdr(CURL *e, const char *name)
{
	struct curl_header *h;

	if (e && curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
		return h->value;
	return NULL;
}

static void
az_req_closed(uv_handle_t *h)
{
	struct az_req *q = h->data;

	free(q->url);
	free(q->body);
	free(q->poll_url);
	free(q);
}

static void
az_end(struct az_req *q, long status, const cJSON *doc, const struct drv_error *err)
{
	struct az_result r = { .status = status, .doc = doc };

	if (err)
		r.err = *err;
	q->d->active--;
	q->cb(q->arg, &r);
	uv_close((uv_handle_t *)&q->timer, az_req_closed);
}

static void
az_fail(struct az_req *q, long status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
az_fail(struct az_req *q, long status, const char *fmt, ...)
{
	struct drv_error e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.cls = DRV_ERR_OTHER;
	e.http_status = (int)status;
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
	az_end(q, status, NULL, &e);
}

static void
az_on_later(uv_timer_t *t)
{
	struct az_req *q = t->data;

	az_end(q, 0, NULL, &q->early);
}

int
az_fail_later(struct azure_driver *d, const struct drv_error *err, az_cb cb, void *arg)
{
	struct az_req *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->d = d;
	q->cb = cb;
	q->arg = arg;
	q->early = *err;
	uv_timer_init(d->loop, &q->timer);
	q->timer.data = q;
	d->active++;
	uv_timer_start(&q->timer, az_on_later, 0, 0);
	return 0;
}

static void az_with_token(struct az_req *q);
static void az_send(struct az_req *q, const char *method, const char *url, const char *body);

/* ---- the token ---- */

struct az_tokreq {
	struct azure_driver *d;
	char *form; /* secret: wiped */
};

static void
az_token_waiters(struct azure_driver *d, const struct drv_error *err)
{
	struct az_req *w = d->tok_waiters, *n;

	d->tok_waiters = NULL;
	for (; w; w = n) {
		n = w->next_waiter;
		w->next_waiter = NULL;
		if (err)
			az_end(w, err->http_status, NULL, err);
		else
			az_with_token(w);
	}
}

static void
az_on_token(void *arg, const struct cu_result *res)
{
	struct az_tokreq *t = arg;
	struct azure_driver *d = t->d;
	struct drv_error e;
	char code[64], msg[300], perr[128];

	adc_free_secret_str(t->form);
	free(t);
	d->tok_fetching = false;
	memset(&e, 0, sizeof(e));
	if (res->curl_code != 0) {
		drv_error_set(&e, DRV_ERR_OTHER, "AAD token: request failed: %s", res->error);
	} else if (res->http_status != 200) {
		if (azure_error_parse(res->body, res->body_len, code, sizeof(code), msg,
				      sizeof(msg)) < 0) {
			snprintf(code, sizeof(code), "HTTP%ld", res->http_status);
			snprintf(msg, sizeof(msg), "no error in the answer");
		}
		snprintf(e.text, sizeof(e.text), "AAD token: HTTP %ld: %s: %s", res->http_status,
			 code, msg);
		snprintf(e.code, sizeof(e.code), "%s", code);
		az_classify(&e, res->http_status, az_hdr(res->easy, "Retry-After"), code, msg,
			    NULL);
		if (e.cls == DRV_ERR_QUOTA) /* AAD texts are not quota errors */
			e.cls = DRV_ERR_OTHER;
	} else {
		azure_token_free(&d->tok);
		if (azure_token_parse(res->body, res->body_len, az_now_ms() / 1000, &d->tok, perr,
				      sizeof(perr)) < 0)
			drv_error_set(&e, DRV_ERR_OTHER, "AAD token: %s", perr);
	}
	if (e.text[0]) {
		e.http_status = (int)res->http_status;
		log_kv(LOG_LVL_WARN, "azure: cannot get a token", LF_STR("error", e.text));
	}
	az_token_waiters(d, e.text[0] ? &e : NULL);
}

static void
az_fetch_token(struct azure_driver *d)
{
	struct az_tokreq *t = calloc(1, sizeof(*t));
	CURL *e = curl_easy_init();
	char url[600];
	char *id = NULL, *sec = NULL, *res = NULL;
	struct curl_slist *hl = NULL;
	size_t n;
	struct drv_error err;

	d->tok_fetching = true;
	if (t && e) {
		id = curl_easy_escape(e, d->p.client_id, 0);
		sec = curl_easy_escape(e, d->p.client_secret, 0);
		res = curl_easy_escape(e, d->env.resource, 0);
	}
	if (!t || !e || !id || !sec || !res)
		goto fail;
	n = strlen(id) + strlen(sec) + strlen(res) + 80;
	if (!(t->form = malloc(n)))
		goto fail;
	snprintf(t->form, n,
		 "grant_type=client_credentials&client_id=%s&client_secret=%s&resource=%s", id, sec,
		 res);
	t->d = d;
	hl = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	if (!hl)
		goto fail;
	snprintf(url, sizeof(url), "%s%s/oauth2/token?api-version=1.0", d->env.aad, d->p.tenant);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->form);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(t->form));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, d->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->total_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (d->ca) {
		struct curl_blob b = { .data = d->ca, .len = d->ca_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	adc_free_secret_str(sec);
	curl_free(id);
	curl_free(res);
	d->stats.token_requests++;
	if (cu_start(d->cu, e, hl, d->max_body, az_on_token, t) < 0) {
		adc_free_secret_str(t->form);
		free(t);
		d->tok_fetching = false;
		drv_error_set(&err, DRV_ERR_OTHER, "AAD token: cannot start the request");
		az_token_waiters(d, &err);
	}
	return;
fail:
	if (sec)
		adc_free_secret_str(sec);
	curl_free(id);
	curl_free(res);
	if (t)
		adc_free_secret_str(t->form);
	free(t);
	if (e)
		curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	d->tok_fetching = false;
	drv_error_set(&err, DRV_ERR_OTHER, "AAD token: out of memory");
	az_token_waiters(d, &err);
}

static bool
az_token_valid(const struct azure_driver *d)
{
	return d->tok.access && d->tok.expires_on - AZ_TOKEN_MARGIN_S > az_now_ms() / 1000;
}

/* ---- requests ---- */

static void
az_resend(struct az_req *q)
{
	if (q->phase == AZP_POLL && q->poll_kind != AZK_RESOURCE)
		az_send(q, "GET", q->poll_url, NULL);
	else if (q->phase == AZP_INITIAL)
		az_send(q, q->method, q->url, q->body);
	else
		az_send(q, "GET", q->url, NULL);
}

static void
az_with_token(struct az_req *q)
{
	struct azure_driver *d = q->d;

	if (az_token_valid(d)) {
		az_resend(q);
		return;
	}
	q->next_waiter = d->tok_waiters;
	d->tok_waiters = q;
	if (!d->tok_fetching)
		az_fetch_token(d);
}

static void
az_on_poll_timer(uv_timer_t *t)
{
	az_with_token(t->data);
}

/* Next poll after the answer's Retry-After (seconds), bounded; fails past the deadline. */
static void
az_schedule(struct az_req *q, const char *retry_after)
{
	int64_t now = az_now_ms(), at = azure_retry_after_ms(retry_after, now);
	int64_t delay = at >= 0 ? at - now : q->d->poll_default_ms;

	if (delay < 0)
		delay = 0;
	if (delay > AZ_POLL_MAX_MS)
		delay = AZ_POLL_MAX_MS;
	if (now + delay > q->deadline_ms) {
		az_fail(q, 0, "%s: the operation did not finish within %ld s", q->what,
			q->d->lro_ms / 1000);
		return;
	}
	uv_timer_start(&q->timer, az_on_poll_timer, (uint64_t)delay, 0);
}

static bool
az_terminal(const char *s)
{
	return s && (strcasecmp(s, "Succeeded") == 0 || strcasecmp(s, "Failed") == 0 ||
		     strcasecmp(s, "Canceled") == 0);
}

static const char *
az_prov_state(const cJSON *doc)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "properties");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "provisioningState");

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

static const struct drv_itype *
az_itype(struct az_req *q, struct drv_itype *buf)
{
	if (!q->has_it)
		return NULL;
	memset(buf, 0, sizeof(*buf));
	buf->name = q->it_name;
	buf->provider_type = q->it_ptype;
	buf->preemptible = q->spot;
	return buf;
}

/* The operation failed asynchronously (status Failed/Canceled): classified by its code. */
static void
az_async_failed(struct az_req *q, const char *status, const char *code, const char *msg)
{
	struct drv_error e;
	struct drv_itype it;

	memset(&e, 0, sizeof(e));
	snprintf(e.text, sizeof(e.text), "%s: operation %s: %s: %s", q->what, status,
		 *code ? code : "(no code)", msg);
	snprintf(e.code, sizeof(e.code), "%s", code);
	if (!(q->flags & AZ_NO_CLASSIFY))
		az_classify(&e, 0, NULL, code, msg, az_itype(q, &it));
	else
		e.cls = DRV_ERR_OTHER;
	e.http_status = 0;
	az_end(q, 0, NULL, &e);
}

static void
az_poll_failed(struct az_req *q, const struct cu_result *res, const char *why)
{
	if (++q->poll_failures > AZ_POLL_RETRIES) {
		az_fail(q, res->http_status, "%s: polling the operation failed %d times: %s",
			q->what, q->poll_failures, why);
		return;
	}
	const char *ra = az_hdr(res->easy, "Retry-After");
	int64_t backoff = 1000LL << (q->poll_failures - 1);

	if (ra && azure_retry_after_ms(ra, az_now_ms()) >= 0) {
		az_schedule(q, ra);
		return;
	}
	if (az_now_ms() + backoff > q->deadline_ms) {
		az_fail(q, 0, "%s: the operation did not finish within %ld s", q->what,
			q->d->lro_ms / 1000);
		return;
	}
	uv_timer_start(&q->timer, az_on_poll_timer, (uint64_t)backoff, 0);
}

/* The namespace refused this request is registered (err NULL; send it again) or not. */
static void
az_on_registered(void *arg, const struct drv_error *err)
{
	struct az_req *q = arg;

	if (err)
		az_end(q, err->http_status, NULL, err);
	else
		az_with_token(q);
}

static void
az_on_answer(void *arg, const struct cu_result *res)
{
	struct az_req *q = arg;
	struct azure_driver *d = q->d;
	cJSON *doc = NULL;
	char code[64] = "", msg[400] = "", st[32];
	const char *h;
	struct drv_itype it;

	if (res->curl_code != 0) {
		if (q->phase != AZP_INITIAL) {
			az_poll_failed(q, res, res->error);
			return;
		}
		az_fail(q, 0, "%s: request failed: %s", q->what, res->error);
		return;
	}
	if (res->http_status == 401 && !q->retried_401) {
		/* The token expired or was revoked early: one new token, one more try. */
		azure_error_parse(res->body, res->body_len, code, sizeof(code), msg, sizeof(msg));
		if (strcasecmp(code, "ExpiredAuthenticationToken") == 0 ||
		    strcasecmp(code, "InvalidAuthenticationToken") == 0) {
			q->retried_401 = true;
			azure_token_free(&d->tok);
			az_with_token(q);
			return;
		}
	}
	if (res->http_status == 409 && q->phase == AZP_INITIAL && !q->retried_reg &&
	    !(q->flags & AZ_NO_REGISTER)) {
		q->retried_reg = true; /* one registration, one more try (azure_register.c) */
		if (az_register_after(d, res->body, res->body_len, q->what, az_on_registered, q) ==
		    0)
			return;
	}
	if (res->http_status >= 400 && !(res->http_status == 404 && (q->flags & AZ_OK_404))) {
		if (q->phase != AZP_INITIAL &&
		    (res->http_status == 429 || res->http_status >= 500)) {
			snprintf(msg, sizeof(msg), "HTTP %ld", res->http_status);
			az_poll_failed(q, res, msg);
			return;
		}
		struct drv_error e;

		memset(&e, 0, sizeof(e));
		if (azure_error_parse(res->body, res->body_len, code, sizeof(code), msg,
				      sizeof(msg)) < 0) {
			snprintf(e.text, sizeof(e.text),
				 "%s: HTTP %ld with no ARM error in the answer", q->what,
				 res->http_status);
			code[0] = 0;
			msg[0] = 0;
		} else {
			snprintf(e.text, sizeof(e.text), "%s: api error %s: %s", q->what, code,
				 msg);
			snprintf(e.code, sizeof(e.code), "%s", code);
		}
		if (q->flags & AZ_NO_CLASSIFY)
			e.cls = DRV_ERR_OTHER;
		else
			az_classify(&e, res->http_status, az_hdr(res->easy, "Retry-After"), code,
				    msg, az_itype(q, &it));
		e.http_status = (int)res->http_status;
		az_end(q, res->http_status, NULL, &e);
		return;
	}
	if (res->body_len > 0) {
		doc = cJSON_ParseWithLength(res->body, res->body_len);
		if (!doc) {
			az_fail(q, res->http_status, "%s: HTTP %ld: the answer is not JSON",
				q->what, res->http_status);
			return;
		}
	}
	if (q->phase == AZP_INITIAL) {
		if (!(q->flags & AZ_LRO) || res->http_status == 404 || res->http_status == 204) {
			az_end(q, res->http_status, doc, NULL);
			cJSON_Delete(doc);
			return;
		}
		q->deadline_ms = az_now_ms() + d->lro_ms;
		if ((h = az_hdr(res->easy, "Azure-AsyncOperation")) != NULL) {
			q->poll_kind = AZK_ASYNC;
		} else if ((h = az_hdr(res->easy, "Location")) != NULL) {
			q->poll_kind = AZK_LOCATION;
		} else if (strcmp(q->method, "PUT") == 0 && doc &&
			   !az_terminal(az_prov_state(doc))) {
			q->poll_kind = AZK_RESOURCE;
		} else {
			const char *ps = az_prov_state(doc);

			if (ps && strcasecmp(ps, "Succeeded") != 0 && az_terminal(ps)) {
				cJSON_Delete(doc);
				az_async_failed(q, ps, "", "provisioningState");
				return;
			}
			az_end(q, res->http_status, doc, NULL);
			cJSON_Delete(doc);
			return;
		}
		if (h && (strncmp(h, "https://", 8) != 0 && strncmp(h, "http://", 7) != 0)) {
			cJSON_Delete(doc);
			az_fail(q, res->http_status, "%s: the operation URL is not absolute",
				q->what);
			return;
		}
		if (h && !(q->poll_url = strdup(h))) {
			cJSON_Delete(doc);
			az_fail(q, 0, "%s: out of memory", q->what);
			return;
		}
		q->phase = AZP_POLL;
		cJSON_Delete(doc);
		az_schedule(q, az_hdr(res->easy, "Retry-After"));
		return;
	}
	if (q->phase == AZP_POLL) {
		q->poll_failures = 0;
		d->stats.polls++;
		bool done = false;

		if (q->poll_kind == AZK_ASYNC) {
			if (azure_async_parse(res->body, res->body_len, st, sizeof(st), code,
					      sizeof(code), msg, sizeof(msg)) < 0) {
				cJSON_Delete(doc);
				az_fail(q, res->http_status,
					"%s: the operation status has no status", q->what);
				return;
			}
			if (strcasecmp(st, "Failed") == 0 || strcasecmp(st, "Canceled") == 0) {
				cJSON_Delete(doc);
				az_async_failed(q, st, code, msg);
				return;
			}
			done = strcasecmp(st, "Succeeded") == 0;
		} else if (q->poll_kind == AZK_LOCATION) {
			done = res->http_status != 202;
		} else {
			const char *ps = az_prov_state(doc);

			if (ps && az_terminal(ps) && strcasecmp(ps, "Succeeded") != 0) {
				snprintf(st, sizeof(st), "%s", ps);
				cJSON_Delete(doc);
				az_async_failed(q, st, "", "provisioningState");
				return;
			}
			if (ps && strcasecmp(ps, "Succeeded") == 0) {
				az_end(q, 200, doc, NULL);
				cJSON_Delete(doc);
				return;
			}
		}
		if (!done) {
			cJSON_Delete(doc);
			az_schedule(q, az_hdr(res->easy, "Retry-After"));
			return;
		}
		cJSON_Delete(doc);
		if (q->flags & AZ_FINAL_GET) {
			q->phase = AZP_FINAL;
			az_with_token(q);
			return;
		}
		az_end(q, 200, NULL, NULL);
		return;
	}
	/* AZP_FINAL */
	az_end(q, res->http_status, doc, NULL);
	cJSON_Delete(doc);
}

static void
az_send(struct az_req *q, const char *method, const char *url, const char *body)
{
	struct azure_driver *d = q->d;
	CURL *e = curl_easy_init();
	struct curl_slist *hl = NULL, *t;
	size_t n = strlen(d->tok.access) + 32;
	char *auth = malloc(n);
	int ok = e && auth;

	if (ok) {
		snprintf(auth, n, "Authorization: Bearer %s", d->tok.access);
		hl = curl_slist_append(NULL, auth);
		ok = hl != NULL;
	}
	adc_free_secret_str(auth);
#define AZ_HDR(s)                                     \
	do {                                          \
		if (ok) {                             \
			t = curl_slist_append(hl, s); \
			if (t)                        \
				hl = t;               \
			else                          \
				ok = 0;               \
		}                                     \
	} while (0)
	AZ_HDR("Accept: application/json");
	AZ_HDR("Expect:");
	if (body)
		AZ_HDR("Content-Type: application/json; charset=utf-8");
#undef AZ_HDR
	if (!ok) {
		if (e)
			curl_easy_cleanup(e);
		curl_slist_free_all(hl);
		az_fail(q, 0, "%s: out of memory", q->what);
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, d->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->total_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (d->ca) {
		struct curl_blob b = { .data = d->ca, .len = d->ca_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	d->stats.arm_requests++;
	if (cu_start(d->cu, e, hl, d->max_body, az_on_answer, q) < 0)
		az_fail(q, 0, "%s: cannot start the request", q->what);
}

int
az_call(struct azure_driver *d, const char *method, const char *url, const char *body, int flags,
	const char *what, const struct drv_itype *it, az_cb cb, void *arg)
{
	struct az_req *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->d = d;
	snprintf(q->method, sizeof(q->method), "%s", method);
	snprintf(q->what, sizeof(q->what), "%s", what);
	q->url = strdup(url);
	q->body = body ? strdup(body) : NULL;
	if (!q->url || (body && !q->body)) {
		free(q->url);
		free(q->body);
		free(q);
		return -ENOMEM;
	}
	if (it) {
		q->has_it = true;
		q->spot = it->preemptible;
		snprintf(q->it_name, sizeof(q->it_name), "%s", it->name ? it->name : "");
		snprintf(q->it_ptype, sizeof(q->it_ptype), "%s",
			 it->provider_type ? it->provider_type : q->it_name);
	}
	q->flags = flags;
	q->cb = cb;
	q->arg = arg;
	q->phase = AZP_INITIAL;
	uv_timer_init(d->loop, &q->timer);
	q->timer.data = q;
	d->active++;
	/* Never call back from inside: the first step runs from the loop. */
	uv_timer_start(&q->timer, az_on_poll_timer, 0, 0);
	return 0;
}
