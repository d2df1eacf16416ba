/* pglock_internal.h - the lock's state, shared by pglock.c (the connection and the queries)
 * and pglock_params.c (libpq's keywords). Only for dispatcherd/pglock/. */
#ifndef ADC_PGLOCK_INTERNAL_H
#define ADC_PGLOCK_INTERNAL_H

#include <libpq-fe.h>

#include "pglock.h"
#include "pglock_resolve.h"

enum pglock_phase {
	PH_IDLE = 0, /* no connection; the retry timer runs */
	PH_RESOLVE,  /* the host names are looked up (pglock_resolve.c) */
	PH_CONNECT,  /* PQconnectPoll in progress */
	PH_TRY,	     /* pg_try_advisory_lock sent */
	PH_HOLDER,   /* the holder query sent */
	PH_WAIT,     /* connected, not holding; the retry timer runs */
	PH_HELD,     /* holding; the check timer runs */
	PH_CHECK,    /* the check query sent */
	PH_CLOSED,
};

#define PGLOCK_EXTRA 6 /* keywords we add: keepalives*, application_name, options */
/* Back-off of the retries after a failed host name lookup: retry_ms doubled up to this many
 * times (5 s, 10 s, 20 s, then 40 s). */
#define PGLOCK_RESOLVE_BACKOFF_MAX 3

struct pglock {
	struct pglock_opts o;
	const char **kw, **val; /* NULL-terminated; values point into o.conn */
	/* Host names resolved off the loop (pglock_resolve.h): where host and port are in kw
	 * (or -1), the free slot that takes hostaddr, and the last addresses logged. */
	bool resolve;
	int host_i, port_i, addr_i;
	struct pglock_resolve names;
	unsigned resolve_failures;
	char resolved[256];
	PGconn *conn;
	uv_poll_t *poll; /* on PQsocket(conn); replaced while connecting */
	int poll_events;
	uv_timer_t retry, deadline, check;
	enum pglock_phase ph;
	bool active, flushing;
	PGresult *res; /* the first result of the query in flight */
	char holder[128];
	char last_err[512];
	char classid[16], objid[16];
	int open_handles;
};

/* pglock_params.c: kw/val from the operator's keywords (checked against libpq's) and ours;
 * sets resolve, host_i, port_i, addr_i and l->names. 0, -EINVAL (err says which keyword) or
 * -ENOMEM. */
int pglock_params(struct pglock *l, char *err, size_t errlen);

#endif
