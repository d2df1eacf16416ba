/*
 * proto_ssh.h - the worker operations between dispatcherd and sshd-pool (types 50-63).
 *
 * Typed operations, never command strings: the parent names a worker (instance id) and the
 * values of one operation; sshd-pool builds the command line itself (sshd-pool/ops.h).
 *
 *   SSH_VERIFY_REQ     str instance_id, str address, u16 port, str user, bytes secret (secret)
 *   SSH_BOOT_PROBE_REQ str instance_id
 *   SSH_DEPLOY_REQ     str instance_id, str md5; PROTO_F_FD: the runner binary (a regular file)
 *   SSH_RUN_PROBE_REQ  str instance_id, bytes prices (JSON, may be empty), bool spot_check
 *   SSH_START_REQ      str instance_id, str uuid, str runtime_engine, u32 n <= 64, n x str arg,
 *                      bytes payload (secret; empty iff PROTO_F_FD: then the payload is a
 *                      sealed memfd, for payloads above PROTO_SSH_MAX_INLINE)
 *   SSH_KILL_REQ       str instance_id, str uuid, u8 signal
 *   SSH_FORGET_REQ     str instance_id
 *   every *_ANS        u8 outcome, i32 exit_status, str exit_signal, bytes stdout,
 *                      bool stdout_truncated, bytes stderr, bool stderr_truncated,
 *                      str message, str host_key_fp, bool pinned
 *
 * Only SSH_VERIFY_REQ names the address and user: it creates (or re-targets) the worker's
 * session. Every other operation needs a verified session for its instance id and answers
 * PROTO_SSH_UNVERIFIED otherwise, e.g. after sshd-pool restarted: the parent verifies again.
 *
 * Two layers of checks. The decoders check structure and bounds only (a failure is a
 * protocol violation). The _check functions check the values (UUID pattern, IP literal,
 * login name, md5, signal, runtime engine): the parent calls them before encoding (sshc.c),
 * and sshd-pool calls them again after decoding and answers PROTO_SSH_INVALID; the
 * encoders do not, so a test can craft a bad value and watch the child refuse it.
 *
 * Output is bounded, not streamed: stdout at most PROTO_SSH_MAX_OUT, stderr at most
 * PROTO_SSH_MAX_ERR, the rest dropped with the truncated flag set, so every answer is one
 * message. The only commands are ours and their output is small (crunch-run --list prints a
 * line of about 30 bytes per container on that one worker).
 */
#ifndef ADC_PROTO_SSH_H
#define ADC_PROTO_SSH_H

#include "proto.h"

#define PROTO_SSH_MAX_INSTANCE	  256u
#define PROTO_SSH_MAX_ADDRESS	  64u
#define PROTO_SSH_MAX_USER	  32u
#define PROTO_SSH_MAX_SECRET	  4096u
#define PROTO_SSH_MAX_UUID	  64u /* wire bound; the pattern is 27 */
#define PROTO_SSH_MAX_ENGINE	  64u
#define PROTO_SSH_MAX_ARGS	  64u
#define PROTO_SSH_MAX_ARG	  4096u
#define PROTO_SSH_MAX_PRICES	  32768u
#define PROTO_SSH_MAX_INLINE	  32768u /* a larger start payload travels as a memfd */
#define PROTO_SSH_MAX_PAYLOAD_FD  (16u * 1024u * 1024u)
#define PROTO_SSH_MAX_OUT	  32768u
#define PROTO_SSH_MAX_ERR	  8192u
#define PROTO_SSH_MAX_SIGNAL_NAME 31u
#define PROTO_SSH_MAX_TEXT	  1024u
#define PROTO_SSH_MAX_FP	  128u
#define PROTO_SSH_MAX_IMDS_URL	  255u

/* The outcome class of an answer (u8 on the wire). */
enum proto_ssh_outcome {
	PROTO_SSH_OK = 0,
	PROTO_SSH_EXIT = 1,	  /* ran, exited non-zero or by a signal */
	PROTO_SSH_BAD_SECRET = 2, /* verify: the worker's secret differs; connection dropped */
	PROTO_SSH_HOSTKEY_CHANGED =
		3,		  /* the worker presented another host key than the pinned one */
	PROTO_SSH_UNSAFE_DIR = 4, /* deploy refused: directory not owned by the user or root */
	PROTO_SSH_TIMEOUT = 5,	  /* connect or command deadline */
	PROTO_SSH_CONNECT = 6,	  /* TCP, SSH or authentication failure, connection lost */
	PROTO_SSH_INVALID = 7,	  /* refused by sshd-pool's checks; nothing was sent */
	PROTO_SSH_UNVERIFIED = 8, /* no verified session for this instance: verify first */
	PROTO_SSH_BUSY = 9,	  /* deploy: another deploy of this worker is running */
	PROTO_SSH_CANCELED = 10,  /* the session was closed (forget, re-target) */
	PROTO_SSH_FAILED = 11,	  /* anything else (out of memory...); message says why */
};
#define PROTO_SSH_OUTCOME_LAST PROTO_SSH_FAILED

const char *proto_ssh_outcome_str(int outcome);

struct proto_ssh_verify { /* SSH_VERIFY_REQ; carries a secret */
	char *instance_id;
	char *address; /* IPv4/IPv6 literal */
	uint16_t port;
	char *user;
	uint8_t *secret;   /* expected /var/run/arvados-instance-secret, or */
	size_t secret_len; /* PROTO_SSH_HOST_KEY_PREFIX + a host key line (below) */
};

/* A verify secret that starts with this names the host key the cloud driver vouches for
 * (spec 5.13 b: the loopback driver knows its sshd's key): sshd-pool accepts the worker iff
 * it presents that key (type and base64 compared; a comment is ignored), and pins it. */
#define PROTO_SSH_HOST_KEY_PREFIX "host-key "

struct proto_ssh_target { /* SSH_BOOT_PROBE_REQ, SSH_FORGET_REQ */
	char *instance_id;
};

struct proto_ssh_deploy { /* SSH_DEPLOY_REQ (the binary is the attached fd) */
	char *instance_id;
	char *md5;
};

struct proto_ssh_run_probe { /* SSH_RUN_PROBE_REQ */
	char *instance_id;
	uint8_t *prices; /* NULL/0: plain --list */
	size_t prices_len;
	/* -spot-interruption-notices: the probe also reads the instance-action notice from the
	 * instance metadata service given at init (SSH_INIT_REQ.imds_url); refused without one. */
	bool spot_check;
};

struct proto_ssh_start { /* SSH_START_REQ; carries a secret (the payload) */
	char *instance_id;
	char *uuid;
	char *runtime_engine;
	char **args; /* CrunchRunArgumentsList */
	uint32_t nargs;
	uint8_t *payload; /* NULL/0 when it rides as the fd */
	size_t payload_len;
};

struct proto_ssh_kill { /* SSH_KILL_REQ */
	char *instance_id;
	char *uuid;
	uint8_t signal;
};

struct proto_ssh_ans {	     /* every SSH_*_ANS of 51-63 */
	uint8_t outcome;     /* enum proto_ssh_outcome */
	int32_t exit_status; /* -1 when none (not run, or killed by a signal) */
	char *exit_signal;   /* "KILL", or "" */
	uint8_t *out;	     /* stdout (never for verify: the secret is not sent up) */
	size_t out_len;
	bool out_truncated;
	uint8_t *err;
	size_t err_len;
	bool err_truncated;
	char *message;	   /* why, when not OK ("" otherwise) */
	char *host_key_fp; /* "SHA256:..." of the connection used, or "" */
	bool pinned;	   /* that host key is the session's pinned key */
};

/* Encoders: as the typed messages in proto.h (0, or -errno with w freed and zeroed;
 * -EMSGSIZE for a field over its bound). Decoders: 0 or -EBADMSG (-ENOMEM), struct zeroed on
 * failure; they never take msg->fd. _free wipes secret fields and is safe on a zeroed struct. */
int proto_ssh_verify_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			    const struct proto_ssh_verify *m);
int proto_ssh_verify_decode(const struct proto_msg *msg, struct proto_ssh_verify *m);
void proto_ssh_verify_free(struct proto_ssh_verify *m);

/* type: SSH_BOOT_PROBE_REQ or SSH_FORGET_REQ (-EINVAL otherwise). */
int proto_ssh_target_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
			    uint32_t timeout_ms, const struct proto_ssh_target *m);
int proto_ssh_target_decode(const struct proto_msg *msg, struct proto_ssh_target *m);
void proto_ssh_target_free(struct proto_ssh_target *m);

/* Always with PROTO_F_FD: the caller sends the runner's fd with it. */
int proto_ssh_deploy_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			    const struct proto_ssh_deploy *m);
int proto_ssh_deploy_decode(const struct proto_msg *msg, struct proto_ssh_deploy *m);
void proto_ssh_deploy_free(struct proto_ssh_deploy *m);

int proto_ssh_run_probe_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			       const struct proto_ssh_run_probe *m);
int proto_ssh_run_probe_decode(const struct proto_msg *msg, struct proto_ssh_run_probe *m);
void proto_ssh_run_probe_free(struct proto_ssh_run_probe *m);

/* with_fd: the payload rides as the attached fd; m->payload is then not sent. */
int proto_ssh_start_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			   const struct proto_ssh_start *m, bool with_fd);
int proto_ssh_start_decode(const struct proto_msg *msg, struct proto_ssh_start *m);
void proto_ssh_start_free(struct proto_ssh_start *m);

int proto_ssh_kill_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			  const struct proto_ssh_kill *m);
int proto_ssh_kill_decode(const struct proto_msg *msg, struct proto_ssh_kill *m);
void proto_ssh_kill_free(struct proto_ssh_kill *m);

/* type: one of the SSH_*_ANS of 51-63. A verify answer with stdout is refused both ways, and
 * so are OK with a non-zero exit status and EXIT with exit status 0. */
int proto_ssh_ans_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
			 const struct proto_ssh_ans *m);
int proto_ssh_ans_decode(const struct proto_msg *msg, struct proto_ssh_ans *m);
void proto_ssh_ans_free(struct proto_ssh_ans *m);
/* The answer type of a worker-operation request type (request + 1), or 0. */
uint16_t proto_ssh_ans_type(uint16_t req_type);

/* ---- value checks (proto_ssh_check.c): 0, or -EINVAL with why filled in ---- */
bool proto_ssh_valid_instance(const char *s); /* 1..256 printable ASCII, no space */
bool proto_ssh_valid_address(const char *s);  /* IPv4 or IPv6 literal */
bool proto_ssh_valid_user(const char *s);     /* ^[a-z_][a-z0-9_.-]{0,31}$ */
bool proto_ssh_valid_md5(const char *s);      /* ^[0-9a-f]{32}$ */
bool proto_ssh_valid_engine(const char *s);   /* ^[a-z0-9][a-z0-9_-]{0,63}$ */
/* The instance metadata service's base URL (-instance-metadata-url): "http://" then a host of
 * [A-Za-z0-9.-] (a name or an IPv4 literal), an optional ":port" (1-5 digits), no path, at
 * most PROTO_SSH_MAX_IMDS_URL bytes. Safe unquoted in a shell word; quoted anyway. */
bool proto_ssh_valid_imds_url(const char *s);
/* Which spot check the metadata service answers (SSH_INIT_REQ.imds_kind, the cloud driver's
 * name): exactly "ec2" (IMDSv2's instance-action) or "azure" (Scheduled Events). */
bool proto_ssh_valid_imds_kind(const char *s);

int proto_ssh_verify_check(const struct proto_ssh_verify *m, char *why, size_t len);
int proto_ssh_target_check(const struct proto_ssh_target *m, char *why, size_t len);
int proto_ssh_deploy_check(const struct proto_ssh_deploy *m, char *why, size_t len);
int proto_ssh_run_probe_check(const struct proto_ssh_run_probe *m, char *why, size_t len);
/* with_fd: the payload comes as an fd (m->payload then empty), else it must be non-empty. */
int proto_ssh_start_check(const struct proto_ssh_start *m, bool with_fd, char *why, size_t len);
int proto_ssh_kill_check(const struct proto_ssh_kill *m, char *why, size_t len);

#endif
