/*
 * pglock_resolve.h - the lock connection's host names resolved off the loop (issue 15).
 *
 * libpq resolves a host name with a blocking getaddrinfo inside PQconnectPoll, which runs on
 * the libuv loop: a slow DNS server would stall the whole dispatcher. So before each
 * connection attempt every name in libpq's `host` (a comma-separated list) is resolved here
 * with uv_getaddrinfo (libuv's thread pool), one name after the other, and libpq is handed
 * `hostaddr`: one entry per address, with the name's `host` entry (and its `port` entry, when
 * `port` is a list) repeated beside it, so that libpq tries every address in order as it would
 * have, and still uses `host` for TLS verification (sslmode=verify-full), the password file
 * and its messages. An entry that is not a name (empty, a Unix-socket directory starting with
 * '/' or '@', a numeric address) gets an empty `hostaddr` entry: libpq looks nothing up for it.
 * Names are resolved again at every attempt (a DNS name moved to a new primary is followed).
 */
#ifndef ADC_PGLOCK_RESOLVE_H
#define ADC_PGLOCK_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define PGLOCK_RESOLVE_MAX_ADDRS 8 /* addresses kept per name */

/* status 0: host, hostaddr and port (NULL: keep the operator's) hold libpq's lists; else a
 * libuv error (UV_EAI_*, UV_ECANCELED) and name the entry that failed. Called from the loop. */
typedef void (*pglock_resolved_fn)(void *arg, int status, const char *name);

struct pglock_resolve {
	uv_loop_t *loop;
	uv_getaddrinfo_t req;
	bool pending;	/* a lookup is in the thread pool: done is still to come */
	bool cancelled; /* pglock_resolve_cancel: done(UV_ECANCELED) whatever the answer */
	char *hosts, *ports;
	char **host_v, **port_v; /* the lists split in place at ',' */
	size_t n_host, n_port, next;
	char *host, *hostaddr, *port; /* the results (port NULL: not a list) */
	size_t host_len, addr_len, port_len;
	pglock_resolved_fn done;
	void *arg;
};

/* Whether libpq's host and port values name anything to resolve. false: no hostaddr is given
 * (nothing but addresses and sockets; or a port list that does not match the host list, which
 * libpq reports itself). */
bool pglock_resolve_needed(const char *host, const char *port);
/* 0 or -ENOMEM. host must be a value for which pglock_resolve_needed is true. */
int
pglock_resolve_init(struct pglock_resolve *r, uv_loop_t *loop, const char *host, const char *port);
/* Resolve every name; done is called once, later, from the loop. 0 or a libuv error (then done
 * is not called). */
int pglock_resolve_start(struct pglock_resolve *r, pglock_resolved_fn done, void *arg);
/* Ask a lookup in flight to stop; true when done is still to come (with UV_ECANCELED, or with
 * the result when the lookup had started: getaddrinfo cannot be interrupted). */
bool pglock_resolve_cancel(struct pglock_resolve *r);
/* Only once done is not to come. */
void pglock_resolve_free(struct pglock_resolve *r);

#endif
