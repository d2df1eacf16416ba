/*
 * instance_http.c - one synchronous libcurl exchange with a management server, for the
 * instance client (a CLI makes a handful of calls, one after the other: no loop needed).
 *
 * The request is the reference client's: the InternalURLs entry's scheme and authority with
 * the route's path (any path in the entry is replaced, as the reference does for actions),
 * `Authorization: Bearer <ManagementToken>`, POST with an empty body and no content type.
 * HTTP/1.1 is forced so that the status line always carries the server's reason phrase,
 * which is printed as Go's resp.Status ("404 Not Found").
 */
#include "instance_cli_internal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "curl_uv.h"
#include "util.h"

/* A list of 10,000 instances is about 3 MB; anything far beyond is not a dispatcher. */
#define ICLI_MAX_BODY (256u << 20)

struct icli_xfer {
	struct icli_reply *r;
	size_t cap;
	bool too_big;
};

static size_t
icli_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct icli_xfer *x = arg;
	struct icli_reply *r = x->r;
	size_t n = size * nmemb;

	if (n > ICLI_MAX_BODY - r->len) {
		x->too_big = true;
		return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
	}
	return curl_uv_append(&r->body, &r->len, &x->cap, ICLI_MAX_BODY, data, n) ? n : 0;
}

/* Keep the last status line ("HTTP/1.1 404 Not Found"): after a 100 Continue, the final one. */
static size_t
icli_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct icli_xfer *x = arg;
	size_t n = size * nmemb;

	if (n > 5 && memcmp(data, "HTTP/", 5) == 0) {
		const char *sp = memchr(data, ' ', n);
		size_t off = sp ? (size_t)(sp - data) : n;
		while (off < n && data[off] == ' ')
			off++;
		size_t end = n;
		while (end > off && (data[end - 1] == '\r' || data[end - 1] == '\n'))
			end--;
		size_t len = end - off;
		if (len >= sizeof(x->r->status_text))
			len = sizeof(x->r->status_text) - 1;
		memcpy(x->r->status_text, data + off, len);
		x->r->status_text[len] = '\0';
	}
	return n;
}

/* Go's http client never sends requests for loopback hosts through a proxy; do the same, so
 * that an operator's $http_proxy does not swallow `instance list` on the dispatcher host. */
static bool
icli_is_loopback(const char *host)
{
	unsigned char a[16];
	char h[128];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= 2 && n < sizeof(h) + 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		return inet_pton(AF_INET6, h, a) == 1 && memcmp(a, &in6addr_loopback, 16) == 0;
	}
	return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

/* Scheme and authority of base with path and query. 0, or -1 with r->error set. */
static int
icli_build_url(const char *base, const char *path, const char *query, struct icli_reply *r,
	       char **url, bool *loopback)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *noquery = NULL;
	int rc = -1;

	if (!u) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, base, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (uc != CURLUE_OK) {
		snprintf(r->error, sizeof(r->error), "parse %s: %s", base, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		snprintf(r->host, sizeof(r->host), "%s:%s", host, port);
	else
		snprintf(r->host, sizeof(r->host), "%s", host);
	*loopback = icli_is_loopback(host);
	if (curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &noquery, 0) != CURLUE_OK) {
		snprintf(r->error, sizeof(r->error), "parse %s: cannot build the request URL",
			 base);
		goto out;
	}
	/* The query is appended as text: the URL API would lower-case its %XX escapes, and the
	 * reference sends Go's upper-case ones. */
	if (asprintf(url, "%s%s%s", noquery, query[0] ? "?" : "", query) < 0) {
		*url = NULL;
		snprintf(r->error, sizeof(r->error), "out of memory");
	} else
		rc = 0;
out:
	curl_free(noquery);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* Go's error text starts with the method as "Get"/"Post". */
static const char *
icli_go_method(const char *method)
{
	return strcmp(method, "POST") == 0 ? "Post" : "Get";
}

static long icli_timeout_ms = ICLI_DEFAULT_TIMEOUT_MS;

void
icli_set_timeout_ms(long ms)
{
	icli_timeout_ms = ms > 0 ? ms : ICLI_DEFAULT_TIMEOUT_MS;
}

int
icli_http(const char *method, const char *base, const char *path, const char *query,
	  const char *token, struct icli_reply *r)
{
	struct icli_xfer x = { .r = r };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL, *h;
	char *url = NULL, *auth = NULL;
	bool loopback = false;
	size_t authlen = 0;
	CURL *c = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (icli_build_url(base, path, query, r, &url, &loopback) < 0)
		return -1;
	/* A token with a line break would smuggle a header; the server refuses it anyway. */
	if (strpbrk(token, "\r\n") != NULL) {
		snprintf(r->error, sizeof(r->error), "ManagementToken contains a line break");
		goto out;
	}
	authlen = strlen(token) + sizeof("Authorization: Bearer ");
	if (!(auth = malloc(authlen)) || !(c = curl_easy_init())) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	snprintf(auth, authlen, "Authorization: Bearer %s", token);
	/* "Content-Type:" removes the form type curl adds to a POST; "Expect:" the 100 round trip. */
	const char *lines[] = { auth, "Content-Type:", "Expect:" };
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!(h = curl_slist_append(hdrs, lines[i]))) {
			snprintf(r->error, sizeof(r->error), "out of memory");
			goto out;
		}
		hdrs = h;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, icli_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, icli_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 icli_timeout_ms < 30000L ? icli_timeout_ms : 30000L);
	/* a total limit too: a server that accepts and then stalls cannot hold the CLI */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, icli_timeout_ms);
	if (loopback)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		const char *why = x.too_big   ? "response body too large"
				  : errbuf[0] ? errbuf
					      : curl_easy_strerror(cc);
		snprintf(r->error, sizeof(r->error), "%s \"%s\": %s", icli_go_method(method), url,
			 why);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status_text[0] == '\0')
		snprintf(r->status_text, sizeof(r->status_text), "%ld", r->status);
	rc = 0;
out:
	if (auth) {
		adc_wipe(auth, authlen);
		free(auth);
	}
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	free(url);
	return rc;
}

void
icli_reply_free(struct icli_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

size_t
icli_query_escape(char *out, size_t len, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
			     ch == '~';
		size_t need = (plain || ch == ' ') ? 1 : 3;
		if (len + need >= cap)
			return (size_t)-1;
		if (plain)
			out[len++] = (char)ch;
		else if (ch == ' ')
			out[len++] = '+';
		else {
			out[len++] = '%';
			out[len++] = hex[ch >> 4];
			out[len++] = hex[ch & 15];
		}
	}
	out[len] = '\0';
	return len;
}

/* An error body is at most a few lines; a huge one is not shown whole. */
#define ICLI_MAX_MESSAGE 4096

char *
icli_error_message(const char *body, size_t len)
{
	char *msg = NULL;

	if (body == NULL || len == 0)
		return NULL;
	cJSON *j = cJSON_ParseWithLength(body, len);
	cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
	if (cJSON_IsArray(errs) && cJSON_GetArraySize(errs) > 0) {
		size_t cap = 1, n = 0;
		cJSON *e;
		cJSON_ArrayForEach(e, errs) if (cJSON_IsString(e))
			cap += strlen(e->valuestring) + 2;
		if ((msg = malloc(cap)) != NULL) {
			msg[0] = '\0';
			cJSON_ArrayForEach(e, errs)
			{
				if (!cJSON_IsString(e))
					continue;
				n += (size_t)snprintf(msg + n, cap - n, "%s%s", n ? "; " : "",
						      e->valuestring);
			}
		}
	}
	cJSON_Delete(j);
	if (msg != NULL && msg[0] != '\0')
		return msg;
	free(msg);
	if (len > ICLI_MAX_MESSAGE)
		len = ICLI_MAX_MESSAGE;
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' ' ||
			   body[len - 1] == '\t'))
		len--;
	return len ? strndup(body, len) : NULL;
}
