/*
 * sshc.h - the parent's typed API to sshd-pool's worker operations (proto_ssh.h).
 *
 * Each call checks its values (proto_ssh_*_check: UUID pattern, IP literal, login name,
 * md5, signal, runtime engine) and refuses before anything is sent, then sends one request
 * through child_chan() of the sshd-pool child. Returns:
 *   0        cb will be called exactly once, later (never from inside the call);
 *   -EINVAL  a value was refused (nothing sent);
 *   -EAGAIN  sshd-pool is not ready (starting, restarting): retryable, nothing sent;
 *   -EMSGSIZE, -ENOBUFS, -ENOMEM, -EBADF: nothing sent.
 * cb is not called when the return is negative.
 *
 * The result's status: PROTO_OK (sshd-pool answered: see outcome), PROTO_E_RETRY (sshd-pool
 * died or restarted before answering: retry once it is ready; its sessions are gone, so
 * verify the worker again first), PROTO_E_TIMEOUT (no answer by the deadline), or
 * PROTO_E_FAILED (the answer was malformed: the channel is closed and sshd-pool restarted).
 *
 * Only sshc_verify names the worker's address and user; every other operation needs a worker
 * verified since sshd-pool last started, and answers PROTO_SSH_UNVERIFIED otherwise.
 * timeout_ms 0 means SSHC_DEFAULT_TIMEOUT_MS; sshd-pool gives up a little before it.
 */
#ifndef ADC_SSHC_H
#define ADC_SSHC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "child.h"
#include "proto_ssh.h"

#define SSHC_DEFAULT_TIMEOUT_MS 600000u

struct sshc_result {
	int status;		 /* PROTO_OK or PROTO_E_RETRY / _TIMEOUT / _FAILED */
	int outcome;		 /* enum proto_ssh_outcome, when status is PROTO_OK */
	int exit_status;	 /* -1 when none */
	const char *exit_signal; /* "" when none */
	const uint8_t *out;	 /* stdout, at most PROTO_SSH_MAX_OUT bytes (never for verify) */
	size_t out_len;
	bool out_truncated;
	const uint8_t *err; /* stderr, at most PROTO_SSH_MAX_ERR bytes */
	size_t err_len;
	bool err_truncated;
	const char *message;	 /* why, when not OK; "" otherwise */
	const char *host_key_fp; /* "SHA256:..." of the connection used, or "" */
	bool pinned;		 /* that key is pinned for this worker */
};

/* r and everything it points to is valid only during the call. */
typedef void (*sshc_cb)(const struct sshc_result *r, void *arg);

struct sshc_worker {
	const char *instance_id;
	const char *address; /* IP literal */
	uint16_t port;
	const char *user; /* remote login */
};

/* Check the instance secret (constant-time, in sshd-pool) and pin the host key on success.
 * secret is copied into the request, which is wiped once sent. */
int sshc_verify(struct child *c, const struct sshc_worker *w, const uint8_t *secret, size_t len,
		uint32_t timeout_ms, sshc_cb cb, void *arg);
int sshc_boot_probe(struct child *c, const char *instance_id, uint32_t timeout_ms, sshc_cb cb,
		    void *arg);
/* Install the runner: fd is DeployRunnerBinary opened read-only (borrowed: a dup travels
 * with SCM_RIGHTS), md5 its hash (file_md5_hex, common/file_md5.h). sshd-pool installs only the runner named at
 * its init, and checks the file's hash itself. */
int sshc_deploy(struct child *c, const char *instance_id, int fd, const char *md5,
		uint32_t timeout_ms, sshc_cb cb, void *arg);
/* crunch-run --list; prices (JSON) non-empty adds --stdin-prices; spot adds the spot check
 * (its line first in stdout; sshd-pool refuses it unless its init named a metadata URL). */
int sshc_run_probe(struct child *c, const char *instance_id, const uint8_t *prices, size_t len,
		   bool spot, uint32_t timeout_ms, sshc_cb cb, void *arg);

struct sshc_start {
	const char *instance_id;
	const char *uuid;
	const char *runtime_engine; /* RuntimeEngine */
	const char *const *args;    /* CrunchRunArgumentsList */
	size_t nargs;
	const uint8_t *payload; /* the --stdin-config JSON (holds a token) */
	size_t payload_len;	/* above PROTO_SSH_MAX_INLINE it travels as a memfd */
};
int
sshc_start(struct child *c, const struct sshc_start *s, uint32_t timeout_ms, sshc_cb cb, void *arg);
int sshc_kill(struct child *c, const char *instance_id, const char *uuid, int signal,
	      uint32_t timeout_ms, sshc_cb cb, void *arg);
/* The instance is gone: sshd-pool closes its session (OK even if it had none). */
int
sshc_forget(struct child *c, const char *instance_id, uint32_t timeout_ms, sshc_cb cb, void *arg);

#endif
