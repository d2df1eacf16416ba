/* pglock.c - see pglock.h. */
#include "pglock.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pglock_internal.h"

static void pl_poll_cb(uv_poll_t *p, int status, int events);
static void pl_connect(struct pglock *l);
static void pl_try(struct pglock *l);
static void pl_release(struct pglock *l);

bool
pglock_configured(const struct cfg_postgres *c)
{
	const char *h = c ? cfg_postgres_get(c, "host") : NULL;
	const char *d = c ? cfg_postgres_get(c, "dbname") : NULL;

	return (h != NULL && h[0] != '\0') || (d != NULL && d[0] != '\0');
}

enum pglock_state
pglock_state(const struct pglock *l)
{
	return l->active ? PGLOCK_ACTIVE : PGLOCK_STANDBY;
}

const char *
pglock_holder(const struct pglock *l)
{
	return l->holder;
}

unsigned
pglock_lease_ms(const struct pglock *l)
{
	return l->o.check_ms + l->o.timeout_ms;
}

static void
pl_confirmed(struct pglock *l)
{
	if (l->o.on_confirm != NULL)
		l->o.on_confirm(l->o.arg);
}

const char *
pglock_last_error(const struct pglock *l)
{
	return l->last_err;
}

/* ---- the socket watcher ---- */

static void
pl_free_handle(uv_handle_t *h)
{
	free(h);
}

static void
pl_unwatch(struct pglock *l)
{
	if (l->poll != NULL) {
		uv_close((uv_handle_t *)l->poll, pl_free_handle);
		l->poll = NULL;
	}
	l->poll_events = 0;
}

/* Watch the connection's socket for events. renew: a fresh watcher (while connecting, libpq
 * may have closed the socket and opened another with the same number). */
static int
pl_watch(struct pglock *l, int events, bool renew)
{
	int fd = PQsocket(l->conn);

	if (renew)
		pl_unwatch(l);
	if (fd < 0)
		return -EBADF;
	if (l->poll == NULL) {
		if ((l->poll = malloc(sizeof(*l->poll))) == NULL)
			return -ENOMEM;
		if (uv_poll_init(l->o.loop, l->poll, fd) != 0) {
			free(l->poll);
			l->poll = NULL;
			return -EBADF;
		}
		l->poll->data = l;
	}
	if (events != l->poll_events) {
		l->poll_events = events;
		uv_poll_start(l->poll, events, pl_poll_cb);
	}
	return 0;
}

/* ---- failures: log once per distinct error, drop the connection, retry later ---- */

static void
pl_set_active(struct pglock *l, bool active)
{
	if (l->active == active)
		return;
	l->active = active;
	if (l->o.on_change != NULL)
		l->o.on_change(l->o.arg, pglock_state(l));
}

static void
pl_retry_cb(uv_timer_t *t)
{
	struct pglock *l = t->data;

	if (l->ph == PH_IDLE)
		pl_connect(l);
	else if (l->ph == PH_WAIT)
		pl_try(l);
}

static void
pl_drop(struct pglock *l)
{
	pl_unwatch(l);
	if (l->res != NULL)
		PQclear(l->res);
	l->res = NULL;
	if (l->conn != NULL)
		PQfinish(l->conn); /* the server releases a lock this session held */
	l->conn = NULL;
	uv_timer_stop(&l->deadline);
	uv_timer_stop(&l->check);
}

/* One line, no newlines (libpq's messages end with one and may have several). */
static void
pl_oneline(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		char c = (*r == '\n' || *r == '\t') ? ' ' : *r;

		if (c == ' ' && (w == s || w[-1] == ' '))
			continue;
		*w++ = c;
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

/* libpq's notices (the server's WARNING/FATAL texts) go to our log, not to stderr. */
static void
pl_notice(void *arg, const char *message)
{
	char m[512];

	(void)arg;
	snprintf(m, sizeof(m), "%s", message);
	pl_oneline(m);
	log_kv(LOG_LVL_INFO, "PostgreSQL notice on the lock connection", LF_STR("Notice", m));
}

/* The delay before the next try: retry_ms, with a back-off while host names fail to resolve
 * (a DNS outage is not hammered, and is logged once). */
static unsigned
pl_retry_ms(const struct pglock *l)
{
	unsigned n = l->resolve_failures;

	if (n == 0)
		return l->o.retry_ms;
	n = n - 1 < PGLOCK_RESOLVE_BACKOFF_MAX ? n - 1 : PGLOCK_RESOLVE_BACKOFF_MAX;
	return l->o.retry_ms << n;
}

static void
pl_fail(struct pglock *l, const char *what, const char *detail)
{
	char err[sizeof(l->last_err)];
	bool was_active = l->active;
	const char *host = cfg_postgres_get(l->o.conn, "host");
	const char *port = cfg_postgres_get(l->o.conn, "port");

	if (l->ph == PH_CLOSED)
		return;
	snprintf(err, sizeof(err), "%s%s%s", what, detail && detail[0] ? ": " : "",
		 detail ? detail : "");
	pl_oneline(err);
	pl_drop(l);
	l->ph = PH_IDLE;
	if (was_active) {
		log_kv_err(LOG_LVL_ERROR, "lost the PostgreSQL advisory lock: dispatching stopped",
			   err, LF_INT("Key", l->o.key));
		snprintf(l->last_err, sizeof(l->last_err), "%s", err);
	} else if (strcmp(err, l->last_err) != 0) {
		log_kv_err(LOG_LVL_WARN, "cannot take the PostgreSQL advisory lock, will retry",
			   err, LF_STR("Host", host ? host : ""), LF_STR("Port", port ? port : ""),
			   LF_INT("RetryMs", pl_retry_ms(l)));
		snprintf(l->last_err, sizeof(l->last_err), "%s", err);
	} else {
		log_kv_err(LOG_LVL_DEBUG, "cannot take the PostgreSQL advisory lock, will retry",
			   err, LF_INT("RetryMs", pl_retry_ms(l)));
	}
	pl_set_active(l, false);
	uv_timer_start(&l->retry, pl_retry_cb, pl_retry_ms(l), 0);
}

static void
pl_deadline_cb(uv_timer_t *t)
{
	struct pglock *l = t->data;
	char d[64];

	snprintf(d, sizeof(d), "no answer from the server within %u ms", l->o.timeout_ms);
	pl_fail(l, l->ph == PH_CONNECT ? "timed out connecting to PostgreSQL" : "query timed out",
		d);
}

/* ---- connecting ---- */

static void
pl_connect_step(struct pglock *l, PostgresPollingStatusType st)
{
	int r = 0;

	switch (st) {
	case PGRES_POLLING_READING:
		r = pl_watch(l, UV_READABLE, true);
		break;
	case PGRES_POLLING_WRITING:
		r = pl_watch(l, UV_WRITABLE, true);
		break;
	case PGRES_POLLING_OK:
		uv_timer_stop(&l->deadline);
		if (PQsetnonblocking(l->conn, 1) != 0) {
			pl_fail(l, "cannot use the PostgreSQL connection", PQerrorMessage(l->conn));
			return;
		}
		l->ph = PH_WAIT;
		l->last_err[0] = '\0';
		log_kv(LOG_LVL_DEBUG, "connected to PostgreSQL",
		       LF_STR("HostAddr", PQhostaddr(l->conn) ? PQhostaddr(l->conn) : ""),
		       LF_INT("ServerVersion", PQserverVersion(l->conn)));
		pl_try(l);
		return;
	default:
		pl_fail(l, "cannot connect to PostgreSQL", PQerrorMessage(l->conn));
		return;
	}
	if (r != 0)
		pl_fail(l, "cannot connect to PostgreSQL", strerror(-r));
}

/* Connect; with r, to the addresses r resolved (libpq's host, hostaddr and port lists). */
static void
pl_connect_to(struct pglock *l, const struct pglock_resolve *r)
{
	if (r != NULL) {
		l->val[l->host_i] = r->host;
		if (r->port != NULL && l->port_i >= 0)
			l->val[l->port_i] = r->port;
		l->kw[l->addr_i] = "hostaddr";
		l->val[l->addr_i] = r->hostaddr;
	}
	l->conn = PQconnectStartParams(l->kw, l->val, 0); /* it copies the values */
	if (r != NULL) {
		l->val[l->host_i] = cfg_postgres_get(l->o.conn, "host");
		if (l->port_i >= 0)
			l->val[l->port_i] = cfg_postgres_get(l->o.conn, "port");
		l->kw[l->addr_i] = l->val[l->addr_i] = NULL;
	}
	l->ph = PH_CONNECT;
	if (l->conn == NULL) {
		pl_fail(l, "cannot connect to PostgreSQL", "out of memory");
		return;
	}
	if (PQstatus(l->conn) == CONNECTION_BAD) {
		pl_fail(l, "cannot connect to PostgreSQL", PQerrorMessage(l->conn));
		return;
	}
	PQsetNoticeProcessor(l->conn, pl_notice, l);
	uv_timer_start(&l->deadline, pl_deadline_cb, l->o.timeout_ms, 0);
	/* libpq's rule: wait until the socket is writable before the first PQconnectPoll. */
	pl_connect_step(l, PGRES_POLLING_WRITING);
}

static void
pl_resolved(void *arg, int status, const char *name)
{
	struct pglock *l = arg;
	char d[320];

	if (l->ph == PH_CLOSED) {
		pl_release(l); /* the lookup in flight held it */
		return;
	}
	if (status != 0) {
		if (l->resolve_failures < UINT32_MAX)
			l->resolve_failures++;
		snprintf(d, sizeof(d), "\"%s\": %s", name ? name : "", uv_strerror(status));
		pl_fail(l, "cannot resolve the PostgreSQL host name", d);
		return;
	}
	l->resolve_failures = 0;
	if (strcmp(l->resolved, l->names.hostaddr) != 0) {
		snprintf(l->resolved, sizeof(l->resolved), "%s", l->names.hostaddr);
		log_kv(LOG_LVL_INFO, "resolved the PostgreSQL host name",
		       LF_STR("Host", cfg_postgres_get(l->o.conn, "host")),
		       LF_STR("HostAddr", l->names.hostaddr));
	}
	pl_connect_to(l, &l->names);
}

/* Resolve the host names off the loop first, when there are any; then connect. */
static void
pl_connect(struct pglock *l)
{
	int r;

	if (!l->resolve) {
		pl_connect_to(l, NULL);
		return;
	}
	l->ph = PH_RESOLVE;
	if ((r = pglock_resolve_start(&l->names, pl_resolved, l)) != 0)
		pl_resolved(l, r, cfg_postgres_get(l->o.conn, "host"));
}

/* ---- queries ---- */

static void
pl_send(struct pglock *l, enum pglock_phase ph, const char *sql, int nparams,
	const char *const *params)
{
	int r;

	if (PQsendQueryParams(l->conn, sql, nparams, NULL, params, NULL, NULL, 0) != 1) {
		pl_fail(l, "cannot send a query to PostgreSQL", PQerrorMessage(l->conn));
		return;
	}
	l->ph = ph;
	r = PQflush(l->conn);
	if (r < 0) {
		pl_fail(l, "cannot send a query to PostgreSQL", PQerrorMessage(l->conn));
		return;
	}
	l->flushing = r == 1;
	uv_timer_start(&l->deadline, pl_deadline_cb, l->o.timeout_ms, 0);
	if ((r = pl_watch(l, UV_READABLE | (l->flushing ? UV_WRITABLE : 0), false)) != 0)
		pl_fail(l, "cannot watch the PostgreSQL connection", strerror(-r));
}

static void
pl_try(struct pglock *l)
{
	char key[24];
	const char *k[] = { key };

	snprintf(key, sizeof(key), "%" PRId64, l->o.key);
	pl_send(l, PH_TRY, "SELECT pg_try_advisory_lock($1::bigint)", 1, k);
}

static void
pl_holder_query(struct pglock *l)
{
	const char *p[] = { l->classid, l->objid };

	pl_send(l, PH_HOLDER,
		"SELECT coalesce(host(a.client_addr) || ':' || a.client_port::text, 'local') "
		"FROM pg_locks l JOIN pg_stat_activity a ON "
		"a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND "
		"l.objid = $2::oid AND l.objsubid = 1 AND l.granted LIMIT 1",
		2, p);
}

static void
pl_check_cb(uv_timer_t *t)
{
	struct pglock *l = t->data;
	const char *p[] = { l->classid, l->objid };

	if (l->ph != PH_HELD)
		return;
	pl_send(l, PH_CHECK,
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid "
		"AND objid = $2::oid AND objsubid = 1 AND granted AND pid = pg_backend_pid()",
		2, p);
}

static const char *
pl_value(const PGresult *res)
{
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1 ||
	    PQnfields(res) < 1 || PQgetisnull(res, 0, 0))
		return NULL;
	return PQgetvalue(res, 0, 0);
}

/* The answer of the query in flight is complete. */
static void
pl_answer(struct pglock *l)
{
	PGresult *res = l->res;
	const char *v = pl_value(res);
	char err[256];

	l->res = NULL;
	uv_timer_stop(&l->deadline);
	if (res == NULL || (PQresultStatus(res) != PGRES_TUPLES_OK)) {
		snprintf(err, sizeof(err), "%s",
			 res ? PQresultErrorMessage(res) : PQerrorMessage(l->conn));
		PQclear(res);
		pl_fail(l, "PostgreSQL query failed", err);
		return;
	}
	switch (l->ph) {
	case PH_TRY:
		if (v != NULL && strcmp(v, "t") == 0) {
			l->ph = PH_HELD;
			l->holder[0] = '\0';
			l->last_err[0] = '\0';
			log_kv(LOG_LVL_INFO, "acquired the PostgreSQL advisory lock",
			       LF_INT("Key", l->o.key));
			uv_timer_start(&l->check, pl_check_cb, l->o.check_ms, l->o.check_ms);
			pl_confirmed(l); /* the lease first: the gate opens on the change */
			pl_set_active(l, true);
		} else {
			pl_holder_query(l);
		}
		break;
	case PH_HOLDER:
		l->ph = PH_WAIT;
		if (v == NULL)
			v = ""; /* released in between: the next try will tell */
		if (strcmp(v, l->holder) != 0 && v[0] != '\0') {
			snprintf(l->holder, sizeof(l->holder), "%s", v);
			log_kv(LOG_LVL_INFO, "waiting for other process to release lock",
			       LF_STR("DBClient", l->holder), LF_INT("Key", l->o.key));
			if (l->o.on_holder != NULL)
				l->o.on_holder(l->o.arg, l->holder);
		}
		uv_timer_start(&l->retry, pl_retry_cb, l->o.retry_ms, 0);
		break;
	case PH_CHECK:
		if (v == NULL || strcmp(v, "1") != 0) {
			PQclear(res);
			pl_fail(l, "lock check failed", "this session no longer holds the lock");
			return;
		}
		l->ph = PH_HELD;
		pl_confirmed(l);
		break;
	default:
		break;
	}
	PQclear(res);
	if (l->ph == PH_HELD || l->ph == PH_WAIT)
		pl_watch(l, UV_READABLE, false); /* a closed connection is noticed at once */
}

static void
pl_readable(struct pglock *l)
{
	PGresult *r;

	if (PQconsumeInput(l->conn) == 0 || PQstatus(l->conn) == CONNECTION_BAD) {
		pl_fail(l, "PostgreSQL connection lost", PQerrorMessage(l->conn));
		return;
	}
	if (l->ph != PH_TRY && l->ph != PH_HOLDER && l->ph != PH_CHECK) {
		/* Idle: nothing should arrive but notices; drain it. */
		while (!PQisBusy(l->conn) && (r = PQgetResult(l->conn)) != NULL)
			PQclear(r);
		return;
	}
	while (!PQisBusy(l->conn)) {
		r = PQgetResult(l->conn);
		if (r == NULL) {
			pl_answer(l);
			return;
		}
		if (l->res == NULL)
			l->res = r;
		else
			PQclear(r);
	}
}

static void
pl_poll_cb(uv_poll_t *p, int status, int events)
{
	struct pglock *l = p->data;

	if (l->ph == PH_CLOSED)
		return;
	if (l->ph == PH_CONNECT) {
		pl_connect_step(l, PQconnectPoll(l->conn));
		return;
	}
	if (status < 0 && !(events & UV_READABLE)) {
		pl_fail(l, "PostgreSQL connection lost", uv_strerror(status));
		return;
	}
	if (l->flushing && (events & UV_WRITABLE)) {
		int r = PQflush(l->conn);

		if (r < 0) {
			pl_fail(l, "cannot send a query to PostgreSQL", PQerrorMessage(l->conn));
			return;
		}
		l->flushing = r == 1;
		if (!l->flushing)
			pl_watch(l, UV_READABLE, false);
	}
	if ((events & UV_READABLE) || status < 0)
		pl_readable(l);
}

/* ---- life ---- */

static void
pl_release(struct pglock *l)
{
	if (--l->open_handles == 0) {
		pglock_resolve_free(&l->names);
		free(l->kw);
		free(l->val);
		free(l);
	}
}

static void
pl_closed(uv_handle_t *h)
{
	pl_release(h->data);
}

int
pglock_new(const struct pglock_opts *o, struct pglock **out, char *err, size_t errlen)
{
	struct pglock *l = calloc(1, sizeof(*l));
	int r;

	*out = NULL;
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->o = *o;
	l->host_i = l->port_i = -1;
	if (l->o.key == 0)
		l->o.key = PGLOCK_KEY;
	if (l->o.retry_ms == 0)
		l->o.retry_ms = PGLOCK_RETRY_MS;
	if (l->o.check_ms == 0)
		l->o.check_ms = PGLOCK_CHECK_MS;
	if (l->o.timeout_ms == 0)
		l->o.timeout_ms = PGLOCK_TIMEOUT_MS;
	/* pg_locks splits a bigint key: classid the high half, objid the low half. */
	snprintf(l->classid, sizeof(l->classid), "%" PRIu32, (uint32_t)((uint64_t)l->o.key >> 32));
	snprintf(l->objid, sizeof(l->objid), "%" PRIu32, (uint32_t)((uint64_t)l->o.key));
	if ((r = pglock_params(l, err, errlen)) != 0) {
		pglock_resolve_free(&l->names);
		free(l->kw);
		free(l->val);
		free(l);
		return r;
	}
	uv_timer_init(o->loop, &l->retry);
	uv_timer_init(o->loop, &l->deadline);
	uv_timer_init(o->loop, &l->check);
	l->retry.data = l->deadline.data = l->check.data = l;
	l->ph = PH_IDLE;
	*out = l;
	return 0;
}

void
pglock_start(struct pglock *l)
{
	if (l != NULL && l->ph == PH_IDLE && l->conn == NULL)
		pl_connect(l);
}

void
pglock_close(struct pglock *l)
{
	if (l == NULL || l->ph == PH_CLOSED)
		return;
	pl_drop(l);
	l->ph = PH_CLOSED;
	l->active = false;
	l->open_handles = 3 + pglock_resolve_cancel(&l->names); /* a lookup in flight answers */
	uv_close((uv_handle_t *)&l->retry, pl_closed);
	uv_close((uv_handle_t *)&l->deadline, pl_closed);
	uv_close((uv_handle_t *)&l->check, pl_closed);
}
