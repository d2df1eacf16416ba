/* pglock_resolve.c - see pglock_resolve.h. */
#include "pglock_resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Not a name: libpq connects to it without a lookup. */
static bool
pr_is_name(const char *h)
{
	unsigned char a[sizeof(struct in6_addr)];

	if (h[0] == '\0' || h[0] == '/' || h[0] == '@')
		return false; /* the default, or a Unix-socket directory (libpq's rule) */
	return inet_pton(AF_INET, h, a) != 1 && inet_pton(AF_INET6, h, a) != 1;
}

/* How many entries a comma-separated list has. */
static size_t
pr_count(const char *s)
{
	size_t k = 1;

	for (; *s; s++)
		k += *s == ',';
	return k;
}

/* The list split in place at ','; *v holds n pointers into a copy (*buf). */
static int
pr_split(const char *s, char **buf, char ***v, size_t *n)
{
	*n = 0;
	if ((*buf = strdup(s)) == NULL || (*v = calloc(pr_count(s), sizeof(**v))) == NULL)
		return -ENOMEM;
	(*v)[(*n)++] = *buf;
	for (char *c = *buf; *c; c++) {
		if (*c == ',') {
			*c = '\0';
			(*v)[(*n)++] = c + 1;
		}
	}
	return 0;
}

bool
pglock_resolve_needed(const char *host, const char *port)
{
	char *buf = NULL, **v = NULL;
	size_t n = 0;
	bool names = false;

	if (host == NULL || host[0] == '\0')
		return false;
	if (port != NULL && pr_count(port) > 1 && pr_count(port) != pr_count(host))
		return false;
	if (pr_split(host, &buf, &v, &n) != 0) {
		free(buf);
		free(v);
		return true; /* out of memory: pglock_resolve_init will say so */
	}
	for (size_t i = 0; i < n && !names; i++)
		names = pr_is_name(v[i]);
	free(buf);
	free(v);
	return names;
}

/* Append s to the list *list (of *len bytes), after a comma unless first. */
static int
pr_append(char **list, size_t *len, bool first, const char *s)
{
	size_t sl = strlen(s), need = *len + !first + sl + 1;
	char *p = realloc(*list, need);

	if (p == NULL)
		return UV_ENOMEM;
	if (!first)
		p[(*len)++] = ',';
	memcpy(p + *len, s, sl + 1);
	*len += sl;
	*list = p;
	return 0;
}

/* One entry of libpq's lists: host entry i with this address ("" for none). */
static int
pr_emit(struct pglock_resolve *r, size_t i, const char *addr)
{
	bool first = r->host == NULL;
	int rc;

	if ((rc = pr_append(&r->host, &r->host_len, first, r->host_v[i])) != 0 ||
	    (rc = pr_append(&r->hostaddr, &r->addr_len, first, addr)) != 0)
		return rc;
	if (r->n_port > 1)
		rc = pr_append(&r->port, &r->port_len, first, r->port_v[i]);
	return rc;
}

/* Every distinct address of res (at most PGLOCK_RESOLVE_MAX_ADDRS), in getaddrinfo's order. */
static int
pr_emit_addrs(struct pglock_resolve *r, const struct addrinfo *res, size_t *k)
{
	char seen[PGLOCK_RESOLVE_MAX_ADDRS][NI_MAXHOST];
	int rc;

	*k = 0;
	for (const struct addrinfo *a = res; a != NULL && *k < PGLOCK_RESOLVE_MAX_ADDRS;
	     a = a->ai_next) {
		bool dup = false;

		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    getnameinfo(a->ai_addr, a->ai_addrlen, seen[*k], sizeof(seen[*k]), NULL, 0,
				NI_NUMERICHOST) != 0)
			continue;
		for (size_t j = 0; j < *k && !dup; j++)
			dup = strcmp(seen[j], seen[*k]) == 0;
		if (dup)
			continue;
		if ((rc = pr_emit(r, r->next, seen[*k])) != 0)
			return rc;
		(*k)++;
	}
	return 0;
}

static void pr_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res);

/* Emit the entries up to the next name and start its lookup: 1 started, 0 all done, or a
 * libuv error (for host_v[next]). */
static int
pr_next(struct pglock_resolve *r)
{
	static const struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int rc;

	for (; r->next < r->n_host && !pr_is_name(r->host_v[r->next]); r->next++)
		if ((rc = pr_emit(r, r->next, "")) != 0)
			return rc;
	if (r->next == r->n_host)
		return 0;
	if ((rc = uv_getaddrinfo(r->loop, &r->req, pr_cb, r->host_v[r->next], NULL, &hints)) != 0)
		return rc;
	r->pending = true;
	return 1;
}

static void
pr_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct pglock_resolve *r = req->data;
	const char *name = r->host_v[r->next];
	size_t k = 0;

	r->pending = false;
	if (status == 0)
		status = pr_emit_addrs(r, res, &k);
	uv_freeaddrinfo(res);
	if (status == 0 && k == 0)
		status = UV_EAI_NODATA;
	if (r->cancelled)
		status = UV_ECANCELED;
	if (status != 0) {
		r->done(r->arg, status, name);
		return;
	}
	r->next++;
	status = pr_next(r);
	if (status != 1)
		r->done(r->arg, status, status == 0 ? NULL : r->host_v[r->next]);
}

int
pglock_resolve_init(struct pglock_resolve *r, uv_loop_t *loop, const char *host, const char *port)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->req.data = r;
	if (pr_split(host, &r->hosts, &r->host_v, &r->n_host) != 0 ||
	    (port != NULL && port[0] != '\0' &&
	     pr_split(port, &r->ports, &r->port_v, &r->n_port) != 0)) {
		pglock_resolve_free(r);
		return -ENOMEM;
	}
	return 0;
}

int
pglock_resolve_start(struct pglock_resolve *r, pglock_resolved_fn done, void *arg)
{
	int rc;

	r->done = done;
	r->arg = arg;
	r->next = 0;
	r->cancelled = false;
	r->host_len = r->addr_len = r->port_len = 0;
	free(r->host);
	free(r->hostaddr);
	free(r->port);
	r->host = r->hostaddr = r->port = NULL;
	rc = pr_next(r);
	return rc == 1 ? 0 : rc == 0 ? UV_EINVAL : rc; /* 0: no name, not to be called */
}

bool
pglock_resolve_cancel(struct pglock_resolve *r)
{
	if (!r->pending)
		return false;
	r->cancelled = true;		/* no further name is looked up */
	uv_cancel((uv_req_t *)&r->req); /* fails once the lookup runs: its answer comes */
	return true;
}

void
pglock_resolve_free(struct pglock_resolve *r)
{
	free(r->hosts);
	free(r->ports);
	free(r->host_v);
	free(r->port_v);
	free(r->host);
	free(r->hostaddr);
	free(r->port);
	memset(r, 0, sizeof(*r));
}
