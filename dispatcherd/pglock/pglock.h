/*
 * pglock.h - one dispatcher per cluster: PostgreSQL advisory lock 10005 (spec 1.6 step 4), held
 * on a dedicated libpq connection driven without blocking from the libuv loop, and re-checked
 * while held (fix of spec 11 weakness 7).
 *
 * Standby: connect, `SELECT pg_try_advisory_lock(key)`; when another session holds the key, its
 * client address is read from pg_locks joined with pg_stat_activity and logged as
 * `waiting for other process to release lock` (DBClient) whenever it changes; the try is
 * repeated every retry_ms on the same connection. Connection errors are logged (once per
 * distinct error) and retried every retry_ms.
 *
 * Active: the connection has TCP keep-alives (libpq keepalives*, both ends), its socket is
 * watched for the server closing it (pg_terminate_backend, a server restart: noticed at once),
 * and every check_ms a query asks pg_locks whether this session still holds the key, with a
 * deadline of timeout_ms. Any failure: the state goes back to standby at once (on_change), the
 * connection is dropped, and the lock is sought again after retry_ms.
 *
 * Every connect and every query has the deadline timeout_ms: a server that accepts and says
 * nothing is an error, not a hang. Host names are resolved before each connection attempt
 * off the loop (uv_getaddrinfo, pglock_resolve.h) and libpq is given the addresses
 * (`hostaddr`) beside the names (`host`, for TLS verification and messages); a failed lookup is
 * logged once, naming the host, and retried with a back-off (retry_ms doubled up to 8 times it).
 * The password is passed to libpq and never logged.
 */
#ifndef ADC_PGLOCK_H
#define ADC_PGLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

#define PGLOCK_KEY		 10005 /* the SLURM, LSF and cloud dispatchers' key */
#define PGLOCK_RETRY_MS		 5000
#define PGLOCK_CHECK_MS		 2000
#define PGLOCK_TIMEOUT_MS	 3000
#define PGLOCK_KEEPALIVE_IDLE_S	 5
#define PGLOCK_KEEPALIVE_INTVL_S 1
#define PGLOCK_KEEPALIVE_COUNT	 3

enum pglock_state { PGLOCK_STANDBY = 0, PGLOCK_ACTIVE = 1 };

struct pglock;

struct pglock_opts {
	uv_loop_t *loop;
	const struct cfg_postgres *conn;	 /* must outlive the lock */
	int64_t key;				 /* 0: PGLOCK_KEY */
	unsigned retry_ms, check_ms, timeout_ms; /* 0: the defaults above */
	/* Called on each change of state (holder: the other holder's address, "" if unknown). */
	void (*on_change)(void *arg, enum pglock_state state);
	/* Called when the other holder's address changes while in standby (may be NULL). */
	void (*on_holder)(void *arg, const char *holder);
	/* Called when the lock is acquired and after each successful check (may be NULL). */
	void (*on_confirm)(void *arg);
	void *arg;
};

/* Checks the connection keywords against libpq's (a clear error in err otherwise). 0 or -errno. */
int pglock_new(const struct pglock_opts *o, struct pglock **out, char *err, size_t errlen);
/* Start seeking the lock. */
void pglock_start(struct pglock *l);
enum pglock_state pglock_state(const struct pglock *l);
/* The other holder's client address ("addr:port", "local" for a Unix socket), "" if none seen. */
const char *pglock_holder(const struct pglock *l);
/* How long a confirmation stays good: check_ms + timeout_ms (the next check's answer is due
 * by then, or the lock is given up). */
unsigned pglock_lease_ms(const struct pglock *l);
/* The last connection or query error ("" if none since the last success). */
const char *pglock_last_error(const struct pglock *l);
/* Drop the connection (the server releases the lock) and free once the handles are closed. */
void pglock_close(struct pglock *l);

/* A configured connection: a host or a dbname set in PostgreSQL.Connection. */
bool pglock_configured(const struct cfg_postgres *c);

#endif
