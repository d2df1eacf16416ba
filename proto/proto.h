/*
 * proto.h - messages between dispatcherd (the parent) and its children cloudd and sshd-pool.
 *
 * Transport: one SOCK_SEQPACKET socketpair per child (the child's end is fd 3), so message
 * boundaries are kept. Each message is a fixed 16-byte header and a payload:
 *
 *     u16 type | u16 flags | u32 len (header included) | u32 reqid | u32 timeout_ms
 *
 * all in network byte order. len <= PROTO_MAX_MSG, checked before anything is allocated.
 * flags: PROTO_F_FD (exactly one fd rides with this message, SCM_RIGHTS), PROTO_F_MORE (a
 * streamed answer: more parts with the same reqid follow; the last part has it clear).
 * reqid: chosen by the requester, echoed in the answer; 0 for unsolicited messages.
 * timeout_ms: the requester's deadline, so that the child can give up too; 0 in answers.
 *
 * Payload fields are read only through the bounds-checked getters below; a decoder ends with
 * proto_end(), which fails if bytes remain. Strings are u32 length + bytes (no NUL on the
 * wire); an embedded NUL or a length past the payload is rejected.
 *
 * The catalogue (PROTO_TYPES) names every type once, paired _REQ/_ANS, with the direction
 * it may travel in and the child role it belongs to; a message that arrives from the wrong
 * side is a protocol violation.
 */
#ifndef ADC_PROTO_H
#define ADC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1u
#define PROTO_HDR_LEN 16u
#define PROTO_MAX_MSG 65536u
#define PROTO_MAX_STR (PROTO_MAX_MSG - PROTO_HDR_LEN - 4u)

#define PROTO_F_FD    0x0001u
#define PROTO_F_MORE  0x0002u
#define PROTO_F_KNOWN (PROTO_F_FD | PROTO_F_MORE)

/* Who may send a type. */
enum proto_dir { PROTO_P2C = 1, PROTO_C2P = 2 };
/* Which child a type belongs to. */
enum proto_role { PROTO_ROLE_ANY = 0, PROTO_ROLE_CLOUDD = 1, PROTO_ROLE_SSHD_POOL = 2 };

/* X(name, number, direction, role, streams). Requests are even, answers odd (OpenSSH
 * monitor.h). streams: the answer may come in several parts (PROTO_F_MORE on all but the
 * last); only CLOUD_LIST_ANS and CLOUD_DESTROY_ANS do. PROTO_F_MORE on any other type is a
 * protocol violation of the sender: a receiver delivers every other answer exactly once. */
#define PROTO_TYPES(X)                                                    \
	X(HELLO_REQ, 2, PROTO_P2C, PROTO_ROLE_ANY, false)                 \
	X(HELLO_ANS, 3, PROTO_C2P, PROTO_ROLE_ANY, false)                 \
	X(PING_REQ, 4, PROTO_P2C, PROTO_ROLE_ANY, false)                  \
	X(PING_ANS, 5, PROTO_C2P, PROTO_ROLE_ANY, false)                  \
	X(CLOUD_INIT_REQ, 16, PROTO_P2C, PROTO_ROLE_CLOUDD, false)        \
	X(CLOUD_INIT_ANS, 17, PROTO_C2P, PROTO_ROLE_CLOUDD, false)        \
	X(CLOUD_CREATE_REQ, 18, PROTO_P2C, PROTO_ROLE_CLOUDD, false)      \
	X(CLOUD_CREATE_ANS, 19, PROTO_C2P, PROTO_ROLE_CLOUDD, false)      \
	X(CLOUD_LIST_REQ, 20, PROTO_P2C, PROTO_ROLE_CLOUDD, false)        \
	X(CLOUD_LIST_ANS, 21, PROTO_C2P, PROTO_ROLE_CLOUDD, true)         \
	X(CLOUD_DESTROY_REQ, 22, PROTO_P2C, PROTO_ROLE_CLOUDD, false)     \
	X(CLOUD_DESTROY_ANS, 23, PROTO_C2P, PROTO_ROLE_CLOUDD, true)      \
	X(CLOUD_TAGS_REQ, 24, PROTO_P2C, PROTO_ROLE_CLOUDD, false)        \
	X(CLOUD_TAGS_ANS, 25, PROTO_C2P, PROTO_ROLE_CLOUDD, false)        \
	X(CLOUD_PRICES_REQ, 26, PROTO_P2C, PROTO_ROLE_CLOUDD, false)      \
	X(CLOUD_PRICES_ANS, 27, PROTO_C2P, PROTO_ROLE_CLOUDD, false)      \
	X(CLOUD_QGROUP_REQ, 28, PROTO_P2C, PROTO_ROLE_CLOUDD, false)      \
	X(CLOUD_QGROUP_ANS, 29, PROTO_C2P, PROTO_ROLE_CLOUDD, false)      \
	X(CLOUD_STATS_REQ, 30, PROTO_P2C, PROTO_ROLE_CLOUDD, false)       \
	X(CLOUD_STATS_ANS, 31, PROTO_C2P, PROTO_ROLE_CLOUDD, false)       \
	X(SSH_INIT_REQ, 48, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)       \
	X(SSH_INIT_ANS, 49, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)       \
	X(SSH_VERIFY_REQ, 50, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)     \
	X(SSH_VERIFY_ANS, 51, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)     \
	X(SSH_BOOT_PROBE_REQ, 52, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false) \
	X(SSH_BOOT_PROBE_ANS, 53, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false) \
	X(SSH_DEPLOY_REQ, 54, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)     \
	X(SSH_DEPLOY_ANS, 55, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)     \
	X(SSH_RUN_PROBE_REQ, 56, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)  \
	X(SSH_RUN_PROBE_ANS, 57, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)  \
	X(SSH_START_REQ, 58, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)      \
	X(SSH_START_ANS, 59, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)      \
	X(SSH_KILL_REQ, 60, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)       \
	X(SSH_KILL_ANS, 61, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)       \
	X(SSH_FORGET_REQ, 62, PROTO_P2C, PROTO_ROLE_SSHD_POOL, false)     \
	X(SSH_FORGET_ANS, 63, PROTO_C2P, PROTO_ROLE_SSHD_POOL, false)

enum proto_type {
#define PROTO_ENUM_(name, num, dir, role, streams) PROTO_##name = (num),
	PROTO_TYPES(PROTO_ENUM_)
#undef PROTO_ENUM_
};

/* "HELLO_REQ", or "unknown(N)" in a static buffer for unknown numbers. */
const char *proto_type_str(uint16_t type);
bool proto_type_known(uint16_t type);
/* 0 if a message of this type may travel in dir for a child of role, else -EPROTO. */
int proto_type_check(uint16_t type, enum proto_dir dir, enum proto_role role);
/* true iff the catalogue lets this type carry PROTO_F_MORE (a streamed answer). */
bool proto_type_streams(uint16_t type);

/* ---- status codes carried in answers (int32) ---- */
#define PROTO_OK	0
#define PROTO_E_RETRY	1 /* retryable: the child died or restarted mid-request */
#define PROTO_E_TIMEOUT 2 /* the request's deadline passed */
#define PROTO_E_INVALID 3 /* the request was refused as invalid */
#define PROTO_E_FAILED	4 /* the operation failed; text says why */
#define PROTO_E_VERSION 5 /* HELLO: version or build id mismatch */
/* An init refused for a reason a restart will not change (a key that does not parse,
 * DriverParameters the driver rejects, a driver not supported): the dispatcher stops with
 * exit status 1 instead of restarting the helper (dispatcherd/child.h). */
#define PROTO_E_PERMANENT 6
#define PROTO_E_LAST	  PROTO_E_PERMANENT /* decoders refuse status codes above this */

/* ---- header ---- */
struct proto_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	uint32_t reqid;
	uint32_t timeout_ms;
};

/* Parse and check a header (len within [HDR_LEN, MAX_MSG] and == nbytes, known flags). */
int proto_hdr_parse(const uint8_t *buf, size_t nbytes, struct proto_hdr *out);

/* ---- building a message ---- */
struct proto_wbuf {
	uint8_t *data; /* header + payload; owned */
	size_t len, cap;
	int err;     /* sticky: first error (-ENOMEM, -EMSGSIZE) */
	bool secret; /* wipe data when freed (carries a secret) */
};

/* Start a message; returns 0 or -errno (-EINVAL for unknown flags, -ENOMEM). Puts after a
 * failed begin only record the sticky error; proto_wbuf_free is always safe. A message grows
 * up to PROTO_MAX_MSG (then -EMSGSIZE); set w->secret right after begin when it will carry
 * a secret, so that every copy, including those left by growing, is wiped. */
int proto_wbuf_begin(struct proto_wbuf *w, uint16_t type, uint16_t flags, uint32_t reqid,
		     uint32_t timeout_ms);
void proto_put_u8(struct proto_wbuf *w, uint8_t v);
void proto_put_u16(struct proto_wbuf *w, uint16_t v);
void proto_put_u32(struct proto_wbuf *w, uint32_t v);
void proto_put_u64(struct proto_wbuf *w, uint64_t v);
void proto_put_i32(struct proto_wbuf *w, int32_t v);
void proto_put_i64(struct proto_wbuf *w, int64_t v);
void proto_put_f64(struct proto_wbuf *w, double v); /* IEEE-754 bits as u64 */
void proto_put_bool(struct proto_wbuf *w, bool v);
/* Strings with an embedded NUL and f64 NaN/Inf set the sticky error -EINVAL. */
void proto_put_str(struct proto_wbuf *w, const char *s); /* NULL = "" */
void proto_put_strn(struct proto_wbuf *w, const char *s, size_t n);
void proto_put_bytes(struct proto_wbuf *w, const void *p, size_t n);
/* Finish: write len into the header. Returns 0 or the sticky error. */
int proto_wbuf_end(struct proto_wbuf *w);
/* A string of at most max bytes (longer: the message fails with -EMSGSIZE). */
void proto_put_str_max(struct proto_wbuf *w, const char *s, size_t max);
/* proto_wbuf_end, and on failure free w: what every typed encoder ends with. */
int proto_encode_finish(struct proto_wbuf *w);
void proto_wbuf_set_reqid(struct proto_wbuf *w, uint32_t reqid);
void proto_wbuf_set_timeout(struct proto_wbuf *w, uint32_t timeout_ms);
/* Replace the header's flags (e.g. PROTO_F_MORE on the parts of a streamed answer). */
void proto_wbuf_set_flags(struct proto_wbuf *w, uint16_t flags);
uint16_t proto_wbuf_flags(const struct proto_wbuf *w);
/* Free (wiping first when w->secret). */
void proto_wbuf_free(struct proto_wbuf *w);

/* ---- reading a message ---- */
struct proto_msg {
	struct proto_hdr hdr;
	const uint8_t *payload;
	size_t payload_len;
	int fd; /* with PROTO_F_FD: the received fd (owned by the handler), else -1 */
};

struct proto_rbuf {
	const uint8_t *p;
	size_t left;
	int err; /* sticky: -EBADMSG once anything was out of bounds or invalid */
};

void proto_rbuf_init(struct proto_rbuf *r, const struct proto_msg *m);
int proto_get_u8(struct proto_rbuf *r, uint8_t *v);
int proto_get_u16(struct proto_rbuf *r, uint16_t *v);
int proto_get_u32(struct proto_rbuf *r, uint32_t *v);
int proto_get_u64(struct proto_rbuf *r, uint64_t *v);
int proto_get_i32(struct proto_rbuf *r, int32_t *v);
int proto_get_i64(struct proto_rbuf *r, int64_t *v);
int proto_get_f64(struct proto_rbuf *r, double *v); /* NaN/Inf rejected */
int proto_get_bool(struct proto_rbuf *r, bool *v);  /* only 0 or 1 */
/* A string of at most max bytes, no embedded NUL; *out is malloc'd and NUL-terminated. */
int proto_get_str(struct proto_rbuf *r, char **out, size_t max);
/* Raw bytes of at most max; *out malloc'd (may contain NULs), *n its length, and a NUL after
 * the last byte (not counted in *n). */
int proto_get_bytes(struct proto_rbuf *r, uint8_t **out, size_t *n, size_t max);
/* 0 iff no error so far and every byte consumed; else -EBADMSG (-ENOMEM if a getter ran
 * out of memory). */
int proto_end(struct proto_rbuf *r);

/* ---- typed messages (proto_msgs.c) ----
 * Each has encode (begins w, writes every field, ends it: 0, or -errno with w freed and
 * zeroed) and decode (allocating; free with _free, which also wipes secrets and is safe on
 * a zeroed struct). decode checks the header type, returns 0 or -EBADMSG (-ENOMEM), and
 * frees what it allocated on failure, leaving *m zeroed. Decoders never take msg->fd. */

/* Bounds every encoder and decoder enforces (bytes, without a NUL). */
#define PROTO_MAX_BUILD_ID    256u
#define PROTO_MAX_ROLE	      32u
#define PROTO_MAX_MESSAGE     4096u /* status text */
#define PROTO_MAX_DRIVER      32u
#define PROTO_MAX_ID	      256u /* instance set id, tag key prefix, cluster id */
#define PROTO_MAX_TAGS	      256u
#define PROTO_MAX_TAG_KEY     256u
#define PROTO_MAX_TAG_VALUE   1024u
#define PROTO_MAX_PRIVATE_KEY 16384u
#define PROTO_MAX_PUBLIC_KEY  16384u
#define PROTO_MAX_COMMAND     4096u
#define PROTO_MAX_PORT	      16u
#define PROTO_MAX_PATH	      1024u /* CrunchRunCommand, DeployRunnerDirectory */
#define PROTO_MAX_MD5	      32u

struct proto_hello { /* HELLO_REQ (parent) and HELLO_ANS (child) */
	uint32_t version;
	char *build_id;
	char *role;   /* "cloudd" / "sshd-pool" */
	uint32_t pid; /* sender's pid (informational) */
};

struct proto_ping { /* PING_REQ / PING_ANS */
	uint64_t nonce;
};

struct proto_status {	/* generic answer: CLOUD_INIT_ANS, SSH_INIT_ANS */
	int32_t status; /* PROTO_OK or PROTO_E_* */
	char *message;	/* "" when OK */
};

struct proto_cloud_init {	  /* CLOUD_INIT_REQ; carries a secret */
	char *driver;		  /* ec2, azure, loopback */
	char *driver_params_json; /* the secret DriverParameters, compact JSON */
	char *instance_set_id;
	char *tag_key_prefix;
	char **shared_tag_keys, **shared_tag_values; /* ResourceTags */
	uint32_t n_shared_tags;
};

struct proto_ssh_init {	      /* SSH_INIT_REQ; carries a secret (or an fd to it) */
	uint8_t *private_key; /* PEM/OpenSSH text; NULL (len 0) when passed as the fd */
	size_t private_key_len;
	char *boot_probe_command;
	char *ssh_port;
	char *cluster_id;
	uint32_t connect_timeout_ms;
	uint32_t command_timeout_ms;
	/* The runner (spec 5.8), fixed for the child's life; "" = the default. The worker
	 * operations themselves are in proto_ssh.h. */
	char *crunch_run_command; /* CrunchRunCommand, used when runner_md5 is "" */
	char *deploy_dir;	  /* DeployRunnerDirectory */
	char *runner_md5;	  /* md5 hex of DeployRunnerBinary; "" = nothing deployed */
	/* -deadman-timeout given: the run probe also touches the heartbeat (deadman.h), which the
	 * watchdog installed by the init command watches (docs/POOL.md "Dead-man's switch"). */
	bool heartbeat;
	/* -instance-metadata-url when -spot-interruption-notices is on, else "": the only
	 * address a run probe's spot check may read (proto_ssh_valid_imds_url). */
	char *imds_url;
	/* With imds_url: the cloud driver's name, "ec2" or "azure", which spot check the run
	 * probe does (proto_ssh_valid_imds_kind); "" without. */
	char *imds_kind;
};

struct proto_ssh_init_ans { /* SSH_INIT_ANS */
	int32_t status;
	char *message;
	char *public_key; /* authorized_keys line of the dispatch key ("" on error) */
};

int proto_hello_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
		       const struct proto_hello *m);
int proto_hello_decode(const struct proto_msg *msg, struct proto_hello *m);
void proto_hello_free(struct proto_hello *m);

int
proto_ping_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid, const struct proto_ping *m);
int proto_ping_decode(const struct proto_msg *msg, struct proto_ping *m);

int proto_status_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
			const struct proto_status *m);
int proto_status_decode(const struct proto_msg *msg, struct proto_status *m);
void proto_status_free(struct proto_status *m);

int proto_cloud_init_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			    const struct proto_cloud_init *m);
int proto_cloud_init_decode(const struct proto_msg *msg, struct proto_cloud_init *m);
void proto_cloud_init_free(struct proto_cloud_init *m);

/* with_fd: the key travels as the attached fd; the payload's key is then empty. */
int proto_ssh_init_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			  const struct proto_ssh_init *m, bool with_fd);
int proto_ssh_init_decode(const struct proto_msg *msg, struct proto_ssh_init *m);
void proto_ssh_init_free(struct proto_ssh_init *m);

int
proto_ssh_init_ans_encode(struct proto_wbuf *w, uint32_t reqid, const struct proto_ssh_init_ans *m);
int proto_ssh_init_ans_decode(const struct proto_msg *msg, struct proto_ssh_init_ans *m);
void proto_ssh_init_ans_free(struct proto_ssh_init_ans *m);

#endif
