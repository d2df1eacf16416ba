/* ec2_call.c - the EC2 transport: endpoint, CA blob, pacing, signing, answer decoding. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ec2_call.h"
#include "ec2_errors.h"
#include "ec2_sign.h"
#include "util.h"

#define EC2_CT "application/x-www-form-urlencoded; charset=utf-8"

struct ec2_client {
	uv_loop_t *loop;
	struct cu *cu;
	struct ec2_pace *pace;
	struct ec2_creds *creds;
	char *url;  /* scheme://authority/ */
	char *host; /* Host header: authority */
	char *region;
	void *ca;
	size_t ca_len;
	long connect_ms, total_ms;
	size_t max_body;
	size_t active;
};

struct ec2_pending {
	struct ec2_client *c;
	char action[48];
	struct ec2_query q;
	ec2_call_cb cb;
	void *arg;
	uv_timer_t defer; /* delivers early failures after ec2_call returned */
	struct drv_error early;
};

static int
ec2_read_file(const char *path, void **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *b;
	ssize_t r;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > 16 * 1024 * 1024) {
		close(fd);
		return -EINVAL;
	}
	b = malloc((size_t)st.st_size);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size && (r = read(fd, b + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	*out = b;
	*len = got;
	return 0;
}

static int
ec2_endpoint(struct ec2_client *c, const char *ep, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "invalid EC2 endpoint URL %s", ep);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		snprintf(err, errlen, "EC2 endpoint must be http(s): %s", ep);
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0); /* only when given explicitly */
	if (asprintf(&c->host, "%s%s%s", host, port ? ":" : "", port ? port : "") < 0) {
		c->host = NULL;
		rc = -ENOMEM;
		goto out;
	}
	if (asprintf(&c->url, "%s://%s/", scheme, c->host) < 0) {
		c->url = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static const char *
ec2_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int
ec2_client_new(uv_loop_t *loop, const struct ec2_client_cfg *cfg, struct ec2_client **out,
	       char *err, size_t errlen)
{
	struct ec2_client *c = calloc(1, sizeof(*c));
	const char *ep = cfg->endpoint && *cfg->endpoint ? cfg->endpoint : NULL;
	const char *ca = cfg->ca_file && *cfg->ca_file ? cfg->ca_file : ec2_env("AWS_CA_BUNDLE");
	char def[256];
	int rc;

	snprintf(err, errlen, "out of memory");
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 30000;
	c->total_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 300000;
	c->max_body = cfg->max_body ? cfg->max_body : 64u << 20;
	if (!cfg->region || !*cfg->region) {
		snprintf(err, errlen, "EC2 driver: Region is required");
		rc = -EINVAL;
		goto fail;
	}
	c->region = strdup(cfg->region);
	if (!c->region) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!ep)
		ep = ec2_env("AWS_ENDPOINT_URL_EC2");
	if (!ep)
		ep = ec2_env("AWS_ENDPOINT_URL");
	if (!ep) {
		snprintf(def, sizeof(def), "https://ec2.%s.amazonaws.com%s", cfg->region,
			 strncmp(cfg->region, "cn-", 3) == 0 ? ".cn" : "");
		ep = def;
	}
	rc = ec2_endpoint(c, ep, err, errlen);
	if (rc)
		goto fail;
	if (cfg->ca_pem != NULL && cfg->ca_pem_len > 0) {
		c->ca = malloc(cfg->ca_pem_len);
		if (!c->ca) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(c->ca, cfg->ca_pem, cfg->ca_pem_len);
		c->ca_len = cfg->ca_pem_len;
	} else if (ca && (rc = ec2_read_file(ca, &c->ca, &c->ca_len)) < 0) {
		snprintf(err, errlen, "cannot read CA bundle %s: %s", ca, strerror(-rc));
		goto fail;
	}
	if ((rc = cu_new(loop, &c->cu)) < 0 || (rc = ec2_pace_new(loop, &c->pace)) < 0)
		goto fail;
	rc = ec2_creds_new(c->cu, cfg->akid, cfg->secret, cfg->env, c->connect_ms, c->total_ms,
			   &c->creds);
	if (rc) {
		snprintf(err, errlen,
			 rc == -ENOENT ? "no AWS credentials available" : "out of memory");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ec2_client_free(c);
	return rc;
}

void
ec2_client_free(struct ec2_client *c)
{
	if (!c)
		return;
	ec2_creds_free(c->creds);
	ec2_pace_free(c->pace);
	cu_free(c->cu);
	free(c->url);
	free(c->host);
	free(c->region);
	free(c->ca);
	free(c);
}

struct ec2_pace *
ec2_client_pace(struct ec2_client *c)
{
	return c->pace;
}

struct ec2_creds *
ec2_client_creds(struct ec2_client *c)
{
	return c->creds;
}

const char *
ec2_client_endpoint(const struct ec2_client *c)
{
	return c->url;
}

size_t
ec2_client_active(const struct ec2_client *c)
{
	return c->active;
}

static void
ec2_pending_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Finish a call: callback, then free the pending state (the timer closes asynchronously). */
static void
ec2_pending_end(struct ec2_pending *p, const struct ec2_reply *r)
{
	p->c->active--;
	p->cb(p->arg, r);
	ec2_query_free(&p->q);
	uv_close((uv_handle_t *)&p->defer, ec2_pending_closed);
}

static void
ec2_on_defer(uv_timer_t *t)
{
	struct ec2_pending *p = t->data;
	struct ec2_reply r = { .root = NULL, .message = "" };

	r.err = p->early;
	ec2_pending_end(p, &r);
}

/* Deliver a failure from the loop, never from inside ec2_call. */
static void
ec2_fail_later(struct ec2_pending *p, const char *fmt, const char *detail)
{
	drv_error_set(&p->early, DRV_ERR_OTHER, fmt, p->action, detail);
	uv_timer_start(&p->defer, ec2_on_defer, 0, 0);
}

static void
ec2_on_answer(void *arg, const struct cu_result *res)
{
	struct ec2_pending *p = arg;
	struct ec2_reply r = { .root = NULL, .message = "" };
	struct ec2_xnode *root = NULL;
	char perr[200];
	const char *code, *msg;

	if (res->curl_code != 0) {
		drv_error_set(&r.err, DRV_ERR_OTHER, "%s: request failed: %s", p->action,
			      res->error);
		r.err.http_status = (int)res->http_status;
		ec2_pending_end(p, &r);
		return;
	}
	r.err.http_status = (int)res->http_status;
	if (ec2_xml_parse(res->body, res->body_len, &root, perr, sizeof(perr)) < 0) {
		drv_error_set(&r.err, DRV_ERR_OTHER, "%s: HTTP %ld: %s", p->action,
			      res->http_status, perr);
		r.err.http_status = (int)res->http_status;
	} else if (res->http_status >= 200 && res->http_status < 300) {
		r.root = root;
	} else if (ec2_xml_error(root, &code, &msg) == 0) {
		drv_error_set(&r.err, DRV_ERR_OTHER, "%s: api error %s: %s", p->action, code, msg);
		r.err.http_status = (int)res->http_status;
		snprintf(r.err.code, sizeof(r.err.code), "%s", code);
		r.message = msg;
		if (ec2_err_kind(code, msg) == EC2_ERRK_THROTTLE)
			ec2_pace_throttled(p->c->pace, ec2_pace_category(p->action));
	} else {
		drv_error_set(&r.err, DRV_ERR_OTHER, "%s: HTTP %ld with no EC2 error in the answer",
			      p->action, res->http_status);
		r.err.http_status = (int)res->http_status;
	}
	ec2_pending_end(p, &r);
	ec2_xml_free(root);
}

/* Appends "<name><value>" to *hl; the text is wiped after curl copied it (it may hold the
 * session token). 0 or -ENOMEM (*hl unchanged). */
static int
ec2_header(struct curl_slist **hl, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	char *h = malloc(nl + vl + 1);
	struct curl_slist *t;

	if (h == NULL)
		return -ENOMEM;
	memcpy(h, name, nl);
	memcpy(h + nl, value, vl + 1);
	t = curl_slist_append(*hl, h);
	adc_wipe(h, nl + vl);
	free(h);
	if (t == NULL)
		return -ENOMEM;
	*hl = t;
	return 0;
}

static void
ec2_send(struct ec2_pending *p, const struct ec2_cred *cr)
{
	struct ec2_client *c = p->c;
	struct ec2_sign_in in = {
		.akid = cr->akid,
		.secret = cr->secret,
		.token = cr->token,
		.region = c->region,
		.service = "ec2",
		.host = c->host,
		.content_type = EC2_CT,
		.body = p->q.buf,
		.body_len = p->q.len,
		.now = time(NULL),
	};
	char date[EC2_AMZ_DATE_LEN], auth[512];
	struct curl_slist *hl = NULL;
	CURL *e = curl_easy_init();
	int ok = e != NULL;

	if (ok && ec2_sign(&in, date, auth, sizeof(auth)) < 0)
		ok = 0;
	/* Each header is built at its own length: session tokens run to 2,000 characters
	 * and more (IMDS role and STS credentials). */
	ok = ok && ec2_header(&hl, "Host: ", c->host) == 0 &&
	     ec2_header(&hl, "Content-Type: ", EC2_CT) == 0 &&
	     ec2_header(&hl, "X-Amz-Date: ", date) == 0 &&
	     ec2_header(&hl, "Authorization: ", auth) == 0 &&
	     (!cr->token || ec2_header(&hl, "X-Amz-Security-Token: ", cr->token) == 0) &&
	     ec2_header(&hl, "Expect:", "") == 0;
	adc_wipe(auth, sizeof(auth));
	if (!ok) {
		if (e)
			curl_easy_cleanup(e);
		curl_slist_free_all(hl);
		ec2_fail_later(p, "%s: cannot sign request%s", "");
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->q.buf);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)p->q.len);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->total_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->ca) {
		struct curl_blob b = { .data = c->ca, .len = c->ca_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
		/* The blob is the whole trust store (it already holds what the default CA
		 * path had, ca_store.h); no lookups in a directory the sandbox hides. */
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (cu_start(c->cu, e, hl, c->max_body, ec2_on_answer, p) < 0)
		ec2_fail_later(p, "%s: cannot start request%s", "");
}

static void
ec2_on_creds(void *arg, int rc, const struct ec2_cred *cred, const char *err)
{
	struct ec2_pending *p = arg;

	if (rc) {
		ec2_fail_later(p, "%s: no credentials: %s", err);
		return;
	}
	ec2_send(p, cred);
}

static void
ec2_on_paced(void *arg)
{
	struct ec2_pending *p = arg;
	const struct ec2_cred *cr = ec2_creds_current(p->c->creds, (int64_t)time(NULL));

	if (cr) {
		ec2_send(p, cr);
		return;
	}
	if (ec2_creds_refresh(p->c->creds, ec2_on_creds, p) < 0)
		ec2_fail_later(p, "%s: no credentials: %s", "out of memory");
}

int
ec2_call(struct ec2_client *c, const char *action, struct ec2_query *q, double res_cost,
	 ec2_call_cb cb, void *arg)
{
	struct ec2_pending *p = calloc(1, sizeof(*p));

	if (!p) {
		ec2_query_free(q);
		return -ENOMEM;
	}
	p->c = c;
	snprintf(p->action, sizeof(p->action), "%s", action);
	p->q = *q;
	memset(q, 0, sizeof(*q));
	p->cb = cb;
	p->arg = arg;
	uv_timer_init(c->loop, &p->defer);
	p->defer.data = p;
	c->active++;
	if (ec2_pace_acquire(c->pace, ec2_pace_category(action), res_cost, ec2_on_paced, p) < 0)
		ec2_fail_later(p, "%s: cannot queue request%s", "");
	return 0;
}
