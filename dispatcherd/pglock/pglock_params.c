/* pglock_params.c - the lock connection's libpq keywords: the operator's
 * PostgreSQL.Connection (each checked against libpq's list), then ours (keep-alives on both
 * ends, application_name) unless the operator set them; and whether host names are to be
 * resolved off the loop (pglock_resolve.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pglock_internal.h"

/* Server-side keep-alives for this session: the server notices a dead dispatcher (and frees
 * the lock) after about idle + interval * count seconds. */
#define PGLOCK_SRV_KA_IDLE_S  10
#define PGLOCK_SRV_KA_INTVL_S 2
#define PGLOCK_SRV_KA_COUNT   3
#define PGLOCK_OPTS                                                                       \
	"-c tcp_keepalives_idle=" PGLOCK_STR(                                             \
		PGLOCK_SRV_KA_IDLE_S) " -c "                                              \
				      "tcp_keepalives_"                                   \
				      "interval=" PGLOCK_STR(                             \
					      PGLOCK_SRV_KA_INTVL_S) " -c "               \
								     "tcp_keepalives_"    \
								     "count=" PGLOCK_STR( \
									     PGLOCK_SRV_KA_COUNT)
#define PGLOCK_STR(x)  PGLOCK_STR2(x)
#define PGLOCK_STR2(x) #x

static bool
pl_keyword_known(const PQconninfoOption *opts, const char *k)
{
	for (const PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, k) == 0)
			return true;
	return false;
}

int
pglock_params(struct pglock *l, char *err, size_t errlen)
{
	const struct cfg_postgres *c = l->o.conn;
	static const char *const extra_k[PGLOCK_EXTRA] = {
		"keepalives",	    "keepalives_idle",	"keepalives_interval",
		"keepalives_count", "application_name", "options"
	};
	static const char *const extra_v[PGLOCK_EXTRA] = {
		"1",
		PGLOCK_STR(PGLOCK_KEEPALIVE_IDLE_S),
		PGLOCK_STR(PGLOCK_KEEPALIVE_INTVL_S),
		PGLOCK_STR(PGLOCK_KEEPALIVE_COUNT),
		"arvados-dispatch-cloud",
		PGLOCK_OPTS,
	};
	PQconninfoOption *known = PQconndefaults();
	size_t n = 0;

	if (known == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* + hostaddr (resolved names) + the NULL end */
	l->kw = calloc(c->n + PGLOCK_EXTRA + 2, sizeof(char *));
	l->val = calloc(c->n + PGLOCK_EXTRA + 2, sizeof(char *));
	if (l->kw == NULL || l->val == NULL) {
		PQconninfoFree(known);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!pl_keyword_known(known, c->keys[i])) {
			snprintf(err, errlen,
				 "PostgreSQL.Connection.%s: not a PostgreSQL (libpq) connection "
				 "parameter",
				 c->keys[i]);
			PQconninfoFree(known);
			return -EINVAL;
		}
		if (c->values[i][0] == '\0')
			continue; /* as Arvados: an empty value is no value */
		if (strcmp(c->keys[i], "host") == 0)
			l->host_i = (int)n;
		else if (strcmp(c->keys[i], "port") == 0)
			l->port_i = (int)n;
		l->kw[n] = c->keys[i];
		l->val[n++] = c->values[i];
	}
	PQconninfoFree(known);
	for (size_t i = 0; i < PGLOCK_EXTRA; i++) {
		if (cfg_postgres_get(c, extra_k[i]) != NULL)
			continue; /* the operator's choice wins */
		l->kw[n] = extra_k[i];
		l->val[n++] = extra_v[i];
	}
	l->addr_i = (int)n;
	/* Names to resolve off the loop, unless the operator gave the addresses (hostaddr). */
	l->resolve = l->host_i >= 0 && cfg_postgres_get(c, "hostaddr") == NULL &&
		     pglock_resolve_needed(l->val[l->host_i],
					   l->port_i >= 0 ? l->val[l->port_i] : NULL);
	if (l->resolve && pglock_resolve_init(&l->names, l->o.loop, l->val[l->host_i],
					      l->port_i >= 0 ? l->val[l->port_i] : NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
