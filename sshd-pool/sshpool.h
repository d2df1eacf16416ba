/*
 * sshpool.h - sshd-pool's state and its side of the parent channel: init (the key arrives as
 * an fd) and the worker operations of proto_ssh.h, one handler per message type
 * (sshpool_req.c), each calling the typed operations of ops.h on the worker's session.
 */
#ifndef ADC_SSHPOOL_H
#define ADC_SSHPOOL_H

#include <stdbool.h>
#include <libssh/libssh.h>
#include <uv.h>

#include "proto.h"
#include "proto_chan.h"
#include "proto_ssh.h"

struct sess_pool;

struct sshpool {
	uv_loop_t *loop;     /* set by main before serving */
	bool test_fail_init; /* test builds only: answer init with PROTO_E_FAILED (main.c) */
	ssh_key key;	     /* the dispatch private key; never leaves this process */
	char *public_key;    /* "<type> <base64>" */
	char *boot_probe_command;
	char *ssh_port;
	char *cluster_id;
	char *crunch_run_command; /* the runner (spec 5.8), fixed at init */
	char *deploy_dir;
	char *runner_md5;
	bool heartbeat;	 /* -deadman-timeout: the run probe touches the heartbeat (deadman.h) */
	char *imds_url;	 /* "" or NULL: run probes may not ask for a spot check */
	char *imds_kind; /* with imds_url: "ec2" or "azure" (ops_conf.imds_kind) */
	uint32_t connect_timeout_ms, command_timeout_ms;
	/* -keepalive-interval, -keepalive-timeout (main.c); 0: the session pool's defaults */
	uint64_t keepalive_ms, keepalive_timeout_ms;
	struct sess_pool *pool;	 /* one session per worker, created at init */
	struct proto_chan *chan; /* where answers go; NULL once closing */
};

int sshpool_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg);
/* A worker operation: decoded, checked, run; the answer carries the request's reqid. A
 * malformed message closes the channel (a protocol violation); a bad value is answered
 * PROTO_SSH_INVALID. m->fd belongs to the callee. */
void sshpool_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg);
/* Close every session (answers of operations still running are dropped) and free. */
void sshpool_teardown(struct sshpool *sp);

/* sshpool_req.c: the answer to the parent of an operation that ended with outcome (ops.h) and
 * the worker's result r (stdout, stderr, exit status and signal, host key: what a worker
 * controls); pin is the session's pinned host key or NULL. a points into r and t. Exported for
 * tests/sshpool/fuzz_sshpool_answer.c. */
struct sess_result;
struct proto_ssh_ans;
struct sshpool_ans_text {
	char fp[PROTO_SSH_MAX_FP + 1];
	char why[128];
};
void sshpool_answer_of(int outcome, struct sess_result *r, uint16_t ans_type, const char *pin,
		       struct proto_ssh_ans *a, struct sshpool_ans_text *t);

/* sshpool_req.c: the handlers, keyed by request type; NULL for any other type. */
typedef void (*sshpool_handler)(struct sshpool *sp, const struct proto_msg *m);
sshpool_handler sshpool_handler_for(uint16_t type);

/* Parse a private key (PEM or OpenSSH text, RSA/ECDSA/Ed25519) and derive the public key
 * line. The text is not modified; the caller wipes it. 0, or -1 with why filled in. */
int sshpool_key_load(const char *text, ssh_key *key, char **public_line, char *why, size_t len);

#endif
