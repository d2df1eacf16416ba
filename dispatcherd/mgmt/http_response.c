/* http_response.c - building a response: JSON bodies end with a newline, as Go's json.Encoder
 * writes them; text bodies as Go's http.Error (text/plain, newline added). */
#include "api_json.h"
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Drop the body, owned or streamed. */
static void
resp_drop_body(struct http_response *w)
{
	free(w->body);
	http_stream_drop(w->stream);
	w->stream = NULL;
	w->body = NULL;
	w->len = 0;
}

void
http_response_reset(struct http_response *w)
{
	resp_drop_body(w);
	for (size_t i = 0; i < w->nheaders; i++) {
		free(w->hname[i]);
		free(w->hvalue[i]);
	}
	memset(w, 0, sizeof(*w));
}

int
http_respond_raw(struct http_response *w, unsigned status, const char *content_type, char *body,
		 size_t len)
{
	resp_drop_body(w);
	w->body = body;
	w->len = body ? len : 0;
	w->status = status;
	w->content_type = content_type;
	return 0;
}

/* Copy text plus a trailing newline. */
static int
respond_line(struct http_response *w, unsigned status, const char *ctype, const char *text)
{
	size_t n = strlen(text);
	char *b = malloc(n + 2);
	if (!b) {
		http_respond_raw(w, 500, NULL, NULL, 0);
		return -ENOMEM;
	}
	memcpy(b, text, n);
	b[n] = '\n';
	b[n + 1] = 0;
	return http_respond_raw(w, status, ctype, b, n + 1);
}

int
http_respond_text(struct http_response *w, unsigned status, const char *text)
{
	return respond_line(w, status, "text/plain; charset=utf-8", text);
}

int
http_respond_json(struct http_response *w, unsigned status, cJSON *body)
{
	char *s = body ? api_json_print(body) : NULL;
	cJSON_Delete(body);
	if (!s) {
		http_respond_raw(w, 500, NULL, NULL, 0);
		return -ENOMEM;
	}
	int rc = respond_line(w, status, "application/json", s);
	cJSON_free(s);
	return rc;
}

int
http_respond_error(struct http_response *w, unsigned status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a = o ? cJSON_AddArrayToObject(o, "errors") : NULL;
	if (!a || !cJSON_AddItemToArray(a, cJSON_CreateString(msg))) {
		cJSON_Delete(o);
		http_respond_raw(w, 500, NULL, NULL, 0);
		return -ENOMEM;
	}
	return http_respond_json(w, status, o);
}

int
http_respond_empty(struct http_response *w, unsigned status)
{
	return http_respond_raw(w, status, NULL, NULL, 0);
}

int
http_respond_header(struct http_response *w, const char *name, const char *value)
{
	if (w->nheaders == HTTP_MAX_RESP_HEADERS)
		return -ENOSPC;
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	w->hname[w->nheaders] = n;
	w->hvalue[w->nheaders] = v;
	w->nheaders++;
	return 0;
}
