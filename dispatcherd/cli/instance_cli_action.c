/*
 * instance_cli_action.c - `instance hold|drain|run|kill [-reason R] ID...` (spec/dispatcher.md
 * 7.3): for each InternalURLs entry, in config order, POST
 * /arvados/v1/dispatch/instances/<action>?instance_id=<ID>&reason=<R> for every ID that no
 * server has accepted yet (the query as Go's url.Values.Encode writes it: keys sorted, `reason`
 * always present, space as '+'), and print `<ID>: <status line> (<host>)` to stderr per
 * attempt, exactly as the reference. When the answer is not 200 and has a body, a second line
 * `<ID>: <host>: <server's message>` follows (the reference prints only the status). Exit 1 if
 * some ID never got a 200, else 0.
 */
#include "instance_cli_internal.h"

#include <stdlib.h>
#include <string.h>

/* "instance_id=<ID>&reason=<R>" (malloc'd), or NULL when out of memory. */
static char *
icli_action_query(const char *id, const char *reason)
{
	size_t cap = 3 * (strlen(id) + strlen(reason)) + sizeof("instance_id=&reason=");
	char *q = malloc(cap);
	size_t n;

	if (q == NULL)
		return NULL;
	n = (size_t)snprintf(q, cap, "instance_id=");
	n = icli_query_escape(q, n, cap, id);
	if (n != (size_t)-1)
		n = (size_t)snprintf(q + n, cap - n, "&reason=") + n;
	if (n != (size_t)-1)
		n = icli_query_escape(q, n, cap, reason);
	if (n == (size_t)-1) { /* cannot happen: cap allows 3 bytes per input byte */
		free(q);
		return NULL;
	}
	return q;
}

/* One attempt; true when the server answered 200. */
static bool
icli_action_one(const char *base, const char *path, const char *id, const char *reason,
		const char *token, FILE *err)
{
	struct icli_reply r;
	char *q = icli_action_query(id, reason);
	bool ok = false;

	if (q == NULL) {
		fprintf(err, "%s: error setting up API request: out of memory\n", id);
		return false;
	}
	if (icli_http("POST", base, path, q, token, &r) < 0) {
		fprintf(err, "%s: error doing API request: %s\n", id, r.error);
		free(q);
		return false;
	}
	fprintf(err, "%s: %s (%s)\n", id, r.status_text, r.host);
	ok = r.status == 200;
	if (!ok) {
		char *msg = icli_error_message(r.body, r.len);
		if (msg)
			fprintf(err, "%s: %s: %s\n", id, r.host, msg);
		free(msg);
	}
	icli_reply_free(&r);
	free(q);
	return ok;
}

int
icli_action(const struct cfg_cluster *c, const char *action, const char *reason, char **ids,
	    int nids, FILE *err)
{
	char path[64];
	bool *done = calloc((size_t)nids, sizeof(*done));
	int left = nids;

	if (done == NULL) {
		fprintf(err, "out of memory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/arvados/v1/dispatch/instances/%s", action);
	for (size_t u = 0; u < c->n_dispatch_internal_urls && left > 0; u++)
		for (int i = 0; i < nids; i++) {
			if (done[i])
				continue;
			if (icli_action_one(c->dispatch_internal_urls[u].url, path, ids[i], reason,
					    c->management_token, err)) {
				done[i] = true;
				left--;
			}
		}
	free(done);
	return left > 0 ? 1 : 0;
}
