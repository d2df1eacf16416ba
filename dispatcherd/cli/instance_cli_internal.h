/* instance_cli_internal.h - what the instance client's files share (see instance_cli.h). */
#ifndef ADC_INSTANCE_CLI_INTERNAL_H
#define ADC_INSTANCE_CLI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define ICLI_EX_USAGE 64 /* the reference's cmd.EX_USAGE for flag errors */

/* One HTTP exchange with a management server. */
struct icli_reply {
	long status; /* 0: no response (see error) */
	char status_text
		[128];	/* "404 Not Found": the status line minus the protocol (Go's resp.Status) */
	char host[300]; /* "host[:port]" of the URL (Go's url.Host) */
	char *body;	/* NUL-terminated, malloc'd; NULL when none */
	size_t len;
	char error[512]; /* transport failure: `Get "<url>": <reason>` */
};

/* Each request's total time limit (connect, send, wait, read); -timeout sets it. */
#define ICLI_DEFAULT_TIMEOUT_MS 60000L
void icli_set_timeout_ms(long ms);

/*
 * method ("GET" or "POST", POST with an empty body) on base's scheme and authority with path
 * and query (already encoded; "" for none), with `Authorization: Bearer <token>`.
 * Returns 0 with r->status set, or -1 with r->error set (r->host is set whenever base
 * parses). The caller frees with icli_reply_free.
 */
int icli_http(const char *method, const char *base, const char *path, const char *query,
	      const char *token, struct icli_reply *r);
void icli_reply_free(struct icli_reply *r);

/* Append s to out as Go's url.QueryEscape does (space '+', others but [A-Za-z0-9-_.~] %XX).
 * Returns the new length, or (size_t)-1 if it does not fit (cap includes the NUL). */
size_t icli_query_escape(char *out, size_t len, size_t cap, const char *s);

/* The server's message from an error body: the "errors" of {"errors":[...]} joined by "; ",
 * else the body's text with trailing white space removed (capped). Caller frees; NULL when
 * the body is empty. */
char *icli_error_message(const char *body, size_t len);

/* The list lines of one response body into *text (malloc'd, "" for no items). 0, or -1 with
 * why (and *text NULL). */
int icli_format_response(const char *body, size_t len, char **text, char *why, size_t whylen);

/* `instance list` on an already loaded config; flags as parsed. */
int icli_list(const struct cfg_cluster *c, bool header, FILE *out, FILE *err);
/* `instance <action>` for ids (deduplicated by the caller). */
int icli_action(const struct cfg_cluster *c, const char *action, const char *reason, char **ids,
		int nids, FILE *err);

#endif
