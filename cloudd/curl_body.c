/* curl_body.c - see curl_body.h. The sockets and the timer are common/curl_uv's; this adds
 * the bounded body, the Retry-After header and the error text. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_body.h"
#include "curl_uv.h"

struct cu {
	struct curl_uv *uv;
	size_t active;
};

struct cu_req {
	struct curl_uv_xfer x; /* x.easy, x.arg = this */
	struct cu *cu;
	struct curl_slist *headers;
	cu_done_cb cb;
	void *arg;
	char *buf;
	size_t len, cap, max;
	int too_large;
	double retry_after;
	char errbuf[CURL_ERROR_SIZE];
};

static void
cu_req_free(struct cu_req *r)
{
	curl_easy_cleanup(r->x.easy);
	curl_slist_free_all(r->headers);
	free(r->buf);
	free(r);
}

/* The transfer left the multi handle (curl_uv): answer, then free. */
static void
cu_req_done(struct curl_uv_xfer *x, CURLcode result)
{
	struct cu_req *r = x->arg;
	struct cu_result res;

	memset(&res, 0, sizeof(res));
	res.curl_code = r->too_large ? CU_TOO_LARGE : (int)result;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
	res.body = r->buf ? r->buf : "";
	res.body_len = r->len;
	res.retry_after_s = r->retry_after;
	res.easy = x->easy;
	if (r->too_large)
		res.error = "answer larger than the allowed maximum";
	else if (result != CURLE_OK)
		res.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
	else
		res.error = "";
	r->cu->active--;
	r->cb(r->arg, &res);
	cu_req_free(r);
}

int
cu_new(uv_loop_t *loop, struct cu **out)
{
	struct cu *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	if ((r = curl_uv_new(loop, &c->uv)) != 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void
cu_free(struct cu *c)
{
	if (!c)
		return;
	curl_uv_close(c->uv, free, c);
}

size_t
cu_active(const struct cu *c)
{
	return c->active;
}

static size_t
cu_write(char *p, size_t sz, size_t n, void *arg)
{
	struct cu_req *r = arg;
	size_t add = sz * n;

	if (r->len + add > r->max) {
		r->too_large = 1;
		return 0; /* makes curl fail the transfer: memory stays bounded */
	}
	return curl_uv_append(&r->buf, &r->len, &r->cap, r->max, p, add) ? add : 0;
}

double
cu_retry_after(const char *p, size_t len)
{
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char tmp[32];
		size_t vl = len - (sizeof(name) - 1);
		char *end;
		double v;

		if (vl >= sizeof(tmp))
			vl = sizeof(tmp) - 1;
		memcpy(tmp, p + sizeof(name) - 1, vl);
		tmp[vl] = 0;
		v = strtod(tmp, &end);
		/* strtod also reads "inf", and "1e999" as HUGE_VAL: no delay (found by
		 * tests/ec2/fuzz_http_headers.c) */
		if (end != tmp && isfinite(v) && v >= 0)
			return v;
	}
	return -1;
}

/* Only Retry-After is read (seconds form); the rest of the headers are not needed. */
static size_t
cu_header(char *p, size_t sz, size_t n, void *arg)
{
	struct cu_req *r = arg;
	size_t len = sz * n;
	double v = cu_retry_after(p, len);

	if (v >= 0)
		r->retry_after = v;
	return len;
}

int
cu_start(struct cu *c, CURL *easy, struct curl_slist *headers, size_t max_body, cu_done_cb cb,
	 void *arg)
{
	struct cu_req *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		curl_easy_cleanup(easy);
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	r->x = (struct curl_uv_xfer){ .easy = easy, .done = cu_req_done, .arg = r };
	r->cu = c;
	r->headers = headers;
	r->cb = cb;
	r->arg = arg;
	r->max = max_body;
	r->retry_after = -1;
	if (headers)
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, cu_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, cu_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	if ((rc = curl_uv_add(c->uv, &r->x)) != 0) {
		cu_req_free(r);
		return rc;
	}
	c->active++;
	return 0;
}
