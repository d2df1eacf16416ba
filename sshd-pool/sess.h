/*
 * sess.h - one persistent SSH connection per worker, many commands as channels on it.
 *
 * Everything runs on one libuv loop. libssh is used in non-blocking mode: the TCP connect is ours
 * (a non-blocking socket handed to libssh with SSH_OPTIONS_FD), and key exchange, authentication,
 * channel open/exec/IO are re-entered when a uv_poll_t on the socket reports readiness. Nothing
 * waits on the network, so a frozen worker only ever holds its own session (see docs/SSHPOOL.md).
 *
 * Host keys: a session starts unpinned. The first connection's host key is reported in every
 * result (sess_result.host_key); only commands flagged SESS_EXEC_UNPINNED (identity verification)
 * may run before the caller pins a key with sess_pin. Once pinned, a connection presenting another
 * key is closed before authentication and every waiting command fails with -EKEYREJECTED.
 *
 * Callbacks are never called from inside sess_exec; each accepted command gets exactly one.
 */
#ifndef ADC_SESS_H
#define ADC_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>
#include <uv.h>

struct sess_pool;
struct sess;

struct sess_opts {
	ssh_key key;		       /* dispatch key, borrowed; must outlive the pool */
	uint64_t connect_timeout_ms;   /* TCP + banner + key exchange + auth (default 60000) */
	uint64_t command_timeout_ms;   /* when sess_exec is given 0 (default 600000) */
	uint64_t keepalive_ms;	       /* probe interval (0: the default, 30000; SESS_KEEPALIVE_OFF:
					  none). On in production: a worker that goes silent (its
					  packets dropped, its sshd frozen) is noticed within
					  keepalive_ms + keepalive_timeout_ms, not at a command's
					  deadline */
	uint64_t keepalive_timeout_ms; /* probe answer deadline (default 15000) */
	unsigned max_channels;	       /* concurrent commands per session (default 8; OpenSSH's
					   MaxSessions defaults to 10, one is kept for keep-alives) */
	unsigned max_connecting; /* key exchanges + authentications in flight in the pool (0: 16
				    per CPU, at least 8, at most 256, and within max_conns). Only
				    they hold a slot: TCP connects and the wait for the server's
				    banner do not (docs/SSHPOOL.md, "Probes at scale") */
	unsigned max_conns;	 /* connections open at once, two descriptors each (0: what
				    RLIMIT_NOFILE's soft limit allows, keeping 64 spare); a
				    session beyond waits for one to close */
	unsigned connect_burst;	 /* TCP connects started per SESS_PACE_MS (0: 4 x
				    max_connecting): 10,000 workers asked at once are not all made
				    to start their server's side in one loop turn */
	size_t max_stdout;	 /* kept per command; excess read and dropped (default 1 MiB) */
	size_t max_stderr;	 /* (default 64 KiB) */
};

#define SESS_KEEPALIVE_OFF UINT64_MAX /* sess_opts.keepalive_ms: no keep-alives */
#define SESS_PACE_MS	   10u	      /* connect_burst connects start per window this long */

struct sess_result {
	int status;	      /* 0: the command ran and exited (see exit_status); <0: it did not
				   run or did not finish, error says why:
				   -ETIMEDOUT connect/command/keep-alive deadline, -ECONNREFUSED etc.
				   TCP, -EACCES auth refused, -EKEYREJECTED host key differs from
				   the pinned one, -ECONNRESET connection lost mid-command,
				   -EPERM host key not verified yet, -ECANCELED session closed,
				   -EPROTO other SSH errors */
	int exit_status;      /* remote exit status, -1 if none (killed by a signal) */
	char exit_signal[32]; /* e.g. "KILL" when killed by a signal, else "" */
	uint8_t *out;	      /* stdout, NUL-terminated for convenience; at most max_stdout bytes */
	size_t out_len;
	bool out_truncated; /* more stdout was produced and dropped */
	uint8_t *err;	    /* stderr, likewise */
	size_t err_len;
	bool err_truncated;
	char error[256]; /* human-readable reason when status < 0 */
	char *host_key;	 /* "<type> <base64>" of the connection used, NULL if none */
};

/* The result belongs to the session layer and is freed after the callback returns; a callback
 * may take out/err/host_key by setting the pointer to NULL. */
typedef void (*sess_done_cb)(struct sess_result *r, void *arg);

/* Stdin for a command: bytes (copied at sess_exec), or an fd streamed until EOF (dup'ed at
 * sess_exec; the caller keeps its own). Both NULL/-1: no stdin (EOF is sent at once). */
struct sess_input {
	const uint8_t *data;
	size_t len;
	int fd;
};

#define SESS_EXEC_UNPINNED 0x1u /* may run before a host key is pinned (identity check only) */

struct sess_stats {
	unsigned connects;  /* connection setups started */
	unsigned connected; /* setups that reached authenticated */
	unsigned setup_failures;
	unsigned channels; /* command channels opened */
	unsigned dropped;  /* established connections lost */
};

/* The pool's connections now and at their peak (bench, tests). */
struct sess_pool_stats {
	unsigned conns, conns_peak;	      /* connections holding descriptors */
	unsigned handshakes, handshakes_peak; /* holding a handshake slot */
	unsigned slot_waits;		      /* times a session waited for a slot */
	unsigned conn_waits; /* times a session waited to connect (fd budget, slot queue full,
				pace) */
	unsigned slot_queued, slot_queued_peak; /* spoke, waiting for a handshake slot */
	unsigned ssh_sessions,
		ssh_sessions_peak; /* libssh sessions alive (from the handshake on) */
};

/* Defaults for every 0 field of opts. */
void sess_opts_defaults(struct sess_opts *o);
/* 0 or -ENOMEM/-EINVAL. opts is copied (the key stays borrowed). */
int sess_pool_new(uv_loop_t *loop, const struct sess_opts *opts, struct sess_pool **out);
/* Close every session (their commands fail with -ECANCELED) and free the pool once its handles
 * are closed: keep running the loop. Not from inside a sess_done_cb. */
void sess_pool_free(struct sess_pool *p);
void sess_pool_get_stats(const struct sess_pool *p, struct sess_pool_stats *st);
/* The limits in force (after the defaults). */
const struct sess_opts *sess_pool_opts(const struct sess_pool *p);
/* Raise RLIMIT_NOFILE's soft limit to the hard one (each connection holds two descriptors; the
 * usual soft limit of 1024 would stop at about 480 workers). Call before a sandbox forbids it.
 * The new soft limit, or -errno. */
long sess_raise_nofile(void);

/* The session for (instance id, address, port), created (unconnected) if new. user is the remote
 * login. A session with the same instance id but another address, port or user is closed first
 * (its commands fail with -ECANCELED): an address change applies to the next connection.
 * 0, -EINVAL (bad id/address/user), -ENOMEM. */
int sess_get(struct sess_pool *p, const char *instance_id, const char *address, int port,
	     const char *user, struct sess **out);
struct sess *sess_find(struct sess_pool *p, const char *instance_id);
/* Close the session: its commands fail with -ECANCELED; the handle is invalid afterwards. */
void sess_close(struct sess *s);

/* Pin the host key ("<type> <base64>", as sess_result.host_key). A live connection presenting
 * another key is dropped. 0, -EINVAL (unparsable key). */
int sess_pin(struct sess *s, const char *key_line);
const char *sess_pinned(const struct sess *s);
/* Drop the current connection (commands in flight fail with -ECONNRESET); the next command
 * reconnects. Used when identity verification fails (weakness 12: nothing is kept open). */
void sess_drop(struct sess *s, const char *why);

/* Queue command for the remote login shell. timeout_ms 0 = opts.command_timeout_ms, and it
 * counts from now (waiting for the connection included). 0: cb will be called once; <0: refused
 * at once (-EPERM unpinned without SESS_EXEC_UNPINNED, -ENOMEM, -EBADF), cb never called. */
int sess_exec(struct sess *s, const char *command, const struct sess_input *in, uint64_t timeout_ms,
	      unsigned flags, sess_done_cb cb, void *arg);

const char *sess_user(const struct sess *s);
const char *sess_instance(const struct sess *s);
void *sess_userdata(const struct sess *s);
/* Per-session data of the layer above (ops: the deployed runner hash); free_fn runs at close. */
void sess_set_userdata(struct sess *s, void *data, void (*free_fn)(void *));
void sess_get_stats(const struct sess *s, struct sess_stats *st);
/* "idle", "waiting", "connecting", "banner", "slot", "handshake", "auth", "ready" */
const char *sess_state(const struct sess *s);

#endif
