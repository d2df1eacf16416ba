/* ec2_creds.c - static, environment and IMDSv2 credentials. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ec2_creds.h"
#include "ec2_spot.h" /* ec2_parse_time */
#include "util.h"

struct ec2_waiter {
	ec2_creds_cb cb;
	void *arg;
	struct ec2_waiter *next;
};

struct ec2_creds {
	struct cu *cu;
	enum ec2_creds_source src;
	struct ec2_cred cur;
	char *imds; /* base URL, no trailing slash */
	char *imds_token;
	char *role;
	long connect_ms, total_ms;
	struct ec2_waiter *waiters;
	bool fetching;
};

void
ec2_cred_clear(struct ec2_cred *c)
{
	adc_free_secret_str(c->akid);
	adc_free_secret_str(c->secret);
	adc_free_secret_str(c->token);
	memset(c, 0, sizeof(*c));
}

static int
ec2_cred_set(struct ec2_cred *c, const char *akid, const char *secret, const char *token,
	     int64_t expires)
{
	struct ec2_cred n = { 0 };

	n.akid = strdup(akid);
	n.secret = strdup(secret);
	n.token = token && *token ? strdup(token) : NULL;
	n.expires = expires;
	if (!n.akid || !n.secret || (token && *token && !n.token)) {
		ec2_cred_clear(&n);
		return -ENOMEM;
	}
	ec2_cred_clear(c);
	*c = n;
	return 0;
}

int
ec2_creds_new(struct cu *cu, const char *static_akid, const char *static_secret,
	      const struct ec2_env_keys *env, long connect_ms, long total_ms,
	      struct ec2_creds **out)
{
	struct ec2_creds *c = calloc(1, sizeof(*c));
	const char *ea = env ? env->akid : getenv("AWS_ACCESS_KEY_ID");
	const char *es = env ? env->secret : getenv("AWS_SECRET_ACCESS_KEY");
	const char *et = env ? env->token : getenv("AWS_SESSION_TOKEN");
	const char *dis = getenv("AWS_EC2_METADATA_DISABLED"), *ep;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->cu = cu;
	c->connect_ms = connect_ms;
	c->total_ms = total_ms;
	if (static_akid && *static_akid && static_secret && *static_secret) {
		c->src = EC2_CREDS_STATIC;
		rc = ec2_cred_set(&c->cur, static_akid, static_secret, NULL, 0);
	} else if (ea && *ea && es && *es) {
		c->src = EC2_CREDS_ENV;
		rc = ec2_cred_set(&c->cur, ea, es, et, 0);
	} else if (dis && strcasecmp(dis, "true") == 0) {
		rc = -ENOENT;
	} else {
		c->src = EC2_CREDS_IMDS;
		ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
		c->imds = strdup(ep && *ep ? ep : "http://169.254.169.254");
		if (!c->imds)
			rc = -ENOMEM;
		else if (c->imds[0] && c->imds[strlen(c->imds) - 1] == '/')
			c->imds[strlen(c->imds) - 1] = 0;
	}
	if (rc) {
		ec2_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
ec2_creds_free(struct ec2_creds *c)
{
	if (!c)
		return;
	ec2_cred_clear(&c->cur);
	adc_free_secret_str(c->imds_token);
	free(c->imds);
	free(c->role);
	while (c->waiters) {
		struct ec2_waiter *w = c->waiters;

		c->waiters = w->next;
		free(w);
	}
	free(c);
}

enum ec2_creds_source
ec2_creds_source(const struct ec2_creds *c)
{
	return c->src;
}

const struct ec2_cred *
ec2_creds_current(const struct ec2_creds *c, int64_t now)
{
	if (!c->cur.akid)
		return NULL;
	if (c->cur.expires && now >= c->cur.expires - EC2_CREDS_MARGIN_S)
		return NULL;
	return &c->cur;
}

static void
ec2_creds_finish(struct ec2_creds *c, int rc, const char *err)
{
	struct ec2_waiter *w = c->waiters;

	c->waiters = NULL;
	c->fetching = false;
	while (w) {
		struct ec2_waiter *next = w->next;

		w->cb(w->arg, rc, rc ? NULL : &c->cur, err);
		free(w);
		w = next;
	}
}

enum ec2_imds_step { IMDS_TOKEN, IMDS_ROLE, IMDS_CREDS };

struct ec2_imds_req {
	struct ec2_creds *c;
	enum ec2_imds_step step;
};

static void ec2_imds_done(void *arg, const struct cu_result *r);

static int
ec2_imds_send(struct ec2_creds *c, enum ec2_imds_step step)
{
	struct ec2_imds_req *q = calloc(1, sizeof(*q));
	struct curl_slist *h = NULL, *h2;
	char url[1024], *hdr = NULL;
	CURL *e = curl_easy_init();

	if (!q || !e) {
		free(q);
		if (e)
			curl_easy_cleanup(e);
		return -ENOMEM;
	}
	q->c = c;
	q->step = step;
	if (step == IMDS_TOKEN) {
		snprintf(url, sizeof(url), "%s/latest/api/token", c->imds);
		hdr = strdup("X-aws-ec2-metadata-token-ttl-seconds: 21600");
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	} else {
		snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s",
			 c->imds, step == IMDS_CREDS ? c->role : "");
		/* The IMDS session token at its own length (no fixed buffer to cut it). */
		if (asprintf(&hdr, "X-aws-ec2-metadata-token: %s", c->imds_token) < 0)
			hdr = NULL;
	}
	h2 = hdr ? curl_slist_append(h, hdr) : NULL;
	adc_free_secret_str(hdr);
	if (!h2) {
		curl_easy_cleanup(e);
		free(q);
		return -ENOMEM;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->total_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (cu_start(c->cu, e, h2, 64 * 1024, ec2_imds_done, q) < 0) {
		free(q);
		return -ENOMEM;
	}
	return 0;
}

int
ec2_imds_parse_role(const char *body, char **role)
{
	size_t l = strcspn(body, "\r\n");

	if (!(*role = strndup(body, l)))
		return -ENOMEM;
	if (!l || strchr(*role, '/') || strchr(*role, '?'))
		return -EINVAL;
	return 0;
}

int
ec2_imds_parse_creds(const char *body, struct ec2_cred *out, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "Token");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
	int64_t exp = cJSON_IsString(x) ? ec2_parse_time(x->valuestring) : -1;
	int rc = -EINVAL;

	if (!cJSON_IsString(a) || !cJSON_IsString(s) || !*a->valuestring || !*s->valuestring)
		snprintf(err, errlen, "IMDS credentials answer lacks AccessKeyId/SecretAccessKey");
	else if (exp < 0)
		snprintf(err, errlen, "IMDS credentials answer has no valid Expiration");
	else
		rc = ec2_cred_set(out, a->valuestring, s->valuestring,
				  cJSON_IsString(t) ? t->valuestring : NULL, exp);
	if (j && s && cJSON_IsString(s))
		adc_wipe(s->valuestring, strlen(s->valuestring));
	if (j && t && cJSON_IsString(t))
		adc_wipe(t->valuestring, strlen(t->valuestring));
	cJSON_Delete(j);
	return rc;
}

static void
ec2_imds_done(void *arg, const struct cu_result *r)
{
	struct ec2_imds_req *q = arg;
	struct ec2_creds *c = q->c;
	enum ec2_imds_step step = q->step;
	char err[300] = "";
	int rc = 0;

	free(q);
	if (r->curl_code != 0 || r->http_status != 200) {
		snprintf(err, sizeof(err), "IMDS %s: %s (HTTP %ld)",
			 step == IMDS_TOKEN  ? "token"
			 : step == IMDS_ROLE ? "role"
					     : "credentials",
			 r->curl_code ? r->error : "unexpected status", r->http_status);
		ec2_creds_finish(c, -EIO, err);
		return;
	}
	switch (step) {
	case IMDS_TOKEN:
		adc_free_secret_str(c->imds_token);
		c->imds_token = strndup(r->body, r->body_len);
		rc = c->imds_token ? ec2_imds_send(c, IMDS_ROLE) : -ENOMEM;
		break;
	case IMDS_ROLE:
		free(c->role);
		rc = ec2_imds_parse_role(r->body, &c->role);
		if (rc == -EINVAL)
			snprintf(err, sizeof(err), "IMDS: no usable IAM role name");
		else if (rc == 0)
			rc = ec2_imds_send(c, IMDS_CREDS);
		break;
	case IMDS_CREDS:
		rc = ec2_imds_parse_creds(r->body, &c->cur, err, sizeof(err));
		adc_wipe((void *)r->body, r->body_len);
		ec2_creds_finish(c, rc, err);
		return;
	}
	if (rc) {
		if (!err[0])
			snprintf(err, sizeof(err), "IMDS: %s", strerror(-rc));
		ec2_creds_finish(c, rc, err);
	}
}

int
ec2_creds_refresh(struct ec2_creds *c, ec2_creds_cb cb, void *arg)
{
	struct ec2_waiter *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->arg = arg;
	w->next = c->waiters;
	c->waiters = w;
	if (c->fetching)
		return 0;
	if (c->src != EC2_CREDS_IMDS) {
		/* static/env credentials do not expire; nothing to fetch */
		c->fetching = true;
		ec2_creds_finish(c, c->cur.akid ? 0 : -ENOENT, "no credentials");
		return 0;
	}
	c->fetching = true;
	rc = ec2_imds_send(c, IMDS_TOKEN);
	if (rc) {
		c->waiters = w->next;
		c->fetching = false;
		free(w);
	}
	return rc;
}
