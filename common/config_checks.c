/*
 * config_checks.c - the checks of spec 1.2 that can fail startup: token syntax, the
 * controller URL's host, LocalKeepLogsToContainerLog.
 */
#include <string.h>

#include "config_internal.h"

#define CFG_TOKEN_MIN 32

static void
check_token(struct cfg_ctx *x, const char *rel, const char *tok)
{
	struct fy_node *k = NULL, *v = cfg_lookup(x->cluster, rel, &k);
	size_t n = tok ? strlen(tok) : 0;

	if (n == 0) {
		cfg_report(x, false, rel, k, v, "secret token is empty");
		return;
	}
	if (strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != n) {
		cfg_report(x, true, rel, k, v,
			   "unacceptable characters in token (only a-z, A-Z, 0-9 are acceptable)");
		return;
	}
	if (n < CFG_TOKEN_MIN)
		cfg_report(x, false, rel, k, v,
			   "token is too short (should be at least %d characters)", CFG_TOKEN_MIN);
}

/* Length of the host in "scheme://[user@]host[:port][/...]"; 0 when there is none. */
static size_t
check_url_host(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;

	if (!p || p == url || strcspn(url, ":/?#") != (size_t)(p - url))
		return 0;
	p += 3;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		return rb ? (size_t)(rb - p - 1) : 0;
	}
	return strcspn(p, ":/?#");
}

void
cfg_check_cluster(struct cfg_ctx *x)
{
	struct cfg_cluster *c = x->c;
	const char *rel = "Services.Controller.ExternalURL";
	const char *logs = c->containers.local_keep_logs_to_container_log;
	struct fy_node *k = NULL, *v;

	check_token(x, "ManagementToken", c->management_token);
	check_token(x, "SystemRootToken", c->system_root_token);
	if (c->controller_external_url && check_url_host(c->controller_external_url) == 0) {
		v = cfg_lookup(x->cluster, rel, &k);
		if (!k)
			v = cfg_lookup(x->cluster, "Services.Controller", &k);
		if (!k)
			v = cfg_lookup(x->cluster, "Services", &k);
		if (!k)
			k = x->cluster_key;
		cfg_report(x, true, rel, k, v,
			   "controller URL \"%s\" has no host (expected e.g. "
			   "https://zzzzz.example.com)",
			   c->controller_external_url);
	}
	if (logs && strcmp(logs, "none") && strcmp(logs, "all") && strcmp(logs, "errors")) {
		rel = "Containers.LocalKeepLogsToContainerLog";
		v = cfg_lookup(x->cluster, rel, &k);
		cfg_report(x, true, rel, k, v,
			   "must be \"none\", \"all\" or \"errors\", not \"%s\"", logs);
	}
}
