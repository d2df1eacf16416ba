/*
 * proto_cloud.h - the cloud verbs between dispatcherd and cloudd (types 18-29 of the
 * catalogue in proto.h; cloudd's range is 16-47).
 *
 *   CLOUD_CREATE_REQ/ANS   one instance of a type; a caller key makes a re-issued create
 *                          idempotent (EC2 ClientTokens derive from it)
 *   CLOUD_LIST_REQ/ANS     instances carrying every filter tag; the answer is streamed:
 *                          parts with PROTO_F_MORE carry instances, the last part (flag
 *                          clear) may carry more and the outcome
 *   CLOUD_DESTROY_REQ/ANS  one or many ids; one outcome per id, streamed like list
 *   CLOUD_TAGS_REQ/ANS     merge tags into one instance
 *   CLOUD_PRICES_REQ/ANS   price history of an instance (its type, spot, zone)
 *   CLOUD_QGROUP_REQ/ANS   the InstanceQuotaGroup of a type
 *   CLOUD_STATS_REQ/ANS    the driver's per-subnet counters (EC2 metrics of spec 8):
 *                          RunInstances outcomes since the previous answer, and the
 *                          instances of the last list per subnet
 *
 * Every answer starts with a struct proto_cloud_err: a status (PROTO_OK or PROTO_E_*) and,
 * for a failed cloud call, its class (rate-limited with the earliest retry time, quota,
 * capacity with its scope, other) and the error text, exactly as the driver classified it
 * (cloudd/drv.h struct drv_error).
 *
 * Same rules as proto.h: every field bounded, decoders free on failure and leave the
 * struct zeroed, encodings canonical. See docs/PROTO.md for the field lists.
 */
#ifndef ADC_PROTO_CLOUD_H
#define ADC_PROTO_CLOUD_H

#include "proto.h"

#define PROTO_MAX_IMAGE		 1024u
#define PROTO_MAX_INIT_COMMAND	 16384u
#define PROTO_MAX_HOST_KEY	 16384u
#define PROTO_MAX_ERR_FIELD	 64u /* code, instance type, quota group */
#define PROTO_MAX_ERR_TEXT	 1024u
#define PROTO_MAX_STATE		 32u
#define PROTO_MAX_USER		 64u
#define PROTO_MAX_DESTROY_IDS	 1000u /* TerminateInstances' batch size */
#define PROTO_MAX_PRICES	 2048u
#define PROTO_MAX_PART_INSTANCES 4096u /* per list part; the 64 KiB limit binds first */
#define PROTO_MAX_SUBNETS	 256u
#define PROTO_MAX_SUBNET_ID	 256u
/* A whole streamed list (all its parts): at most this many instances and payload bytes. The
 * parent copies every part, so more from cloudd is a protocol violation, not memory. */
#define PROTO_MAX_LIST_INSTANCES 100000u
#define PROTO_MAX_LIST_BYTES	 (64u * 1024u * 1024u)
/* Times on the wire (earliest_retry_ms, a price's start_time) lie in [0, 2262-04-11]: the
 * parent holds times as int64_t nanoseconds, and a later one would overflow. Encoders and
 * decoders refuse others (cloudd drops such spot prices and clamps a retry time). */
#define PROTO_MAX_TIME_S  9223372035LL
#define PROTO_MAX_TIME_MS (PROTO_MAX_TIME_S * 1000LL)

/* The driver's error classes (drv.h enum drv_err_class), on the wire as u8. */
enum proto_cloud_class {
	PROTO_CLOUD_OK = 0,
	PROTO_CLOUD_RATE_LIMIT = 1,
	PROTO_CLOUD_QUOTA = 2,
	PROTO_CLOUD_CAPACITY = 3,
	PROTO_CLOUD_OTHER = 4,
};
#define PROTO_CLOUD_CLASS_LAST PROTO_CLOUD_OTHER

struct proto_cloud_err {
	int32_t status;		   /* PROTO_OK, PROTO_E_FAILED (cloud error, cls set), ... */
	uint8_t cls;		   /* enum proto_cloud_class; OK iff status is PROTO_OK */
	int64_t earliest_retry_ms; /* RATE_LIMIT: wall clock, ms since the epoch */
	bool type_specific;	   /* CAPACITY: for this instance type */
	bool quota_group_specific; /* CAPACITY: for every type of quota_group */
	bool spot;		   /* the failed request was preemptible */
	int32_t http_status;
	char *instance_type; /* never NULL after decode */
	char *quota_group;
	char *code;
	char *text;
};

struct proto_cloud_tags {
	char **keys, **values;
	uint32_t n; /* <= PROTO_MAX_TAGS */
};

struct proto_cloud_itype {
	char *name;
	char *provider_type;
	double price;
	bool preemptible;
	int64_t added_scratch; /* bytes */
};

/* One instance as cloudd reports it. address is where to SSH (the driver's Address(),
 * "host" or "host:port"); host_key is the authorized_keys-style host public key when the
 * driver knows it (loopback), else "". */
struct proto_cloud_inst {
	char *id;
	char *provider_type;
	char *address;
	char *private_address;
	char *subnet_id;
	char *state;
	char *az;
	char *remote_user;
	char *host_key;
	bool spot;
	struct proto_cloud_tags tags;
};

struct proto_cloud_create { /* CLOUD_CREATE_REQ */
	struct proto_cloud_itype itype;
	char *image;
	char *init_command;
	char *public_key;
	char *key; /* idempotency key ("" = none) */
	struct proto_cloud_tags tags;
};

struct proto_cloud_create_ans { /* CLOUD_CREATE_ANS */
	struct proto_cloud_err err;
	struct proto_cloud_inst inst; /* all "" unless err.status is PROTO_OK */
};

struct proto_cloud_list { /* CLOUD_LIST_REQ */
	struct proto_cloud_tags filter;
};

struct proto_cloud_list_ans {	    /* CLOUD_LIST_ANS (one part) */
	struct proto_cloud_err err; /* PROTO_OK on every part but a failed last one */
	struct proto_cloud_inst *insts;
	uint32_t n;
};

struct proto_cloud_destroy { /* CLOUD_DESTROY_REQ */
	char **ids;
	uint32_t n; /* 1..PROTO_MAX_DESTROY_IDS */
};

struct proto_cloud_destroy_ans {    /* CLOUD_DESTROY_ANS (one part) */
	struct proto_cloud_err err; /* the request as a whole */
	char **ids;
	struct proto_cloud_err *errs; /* errs[i]: outcome for ids[i] */
	uint32_t n;
};

struct proto_cloud_tags_req { /* CLOUD_TAGS_REQ */
	char *id;
	struct proto_cloud_tags tags;
};

struct proto_cloud_prices { /* CLOUD_PRICES_REQ */
	struct proto_cloud_itype itype;
	char *id;
	char *az;
	bool spot;
};

struct proto_cloud_price {
	int64_t start_time; /* seconds since the epoch */
	double price;
};

struct proto_cloud_prices_ans { /* CLOUD_PRICES_ANS */
	struct proto_cloud_err err;
	struct proto_cloud_price *v;
	uint32_t n;
};

struct proto_cloud_qgroup { /* CLOUD_QGROUP_REQ */
	struct proto_cloud_itype itype;
};

struct proto_cloud_qgroup_ans { /* CLOUD_QGROUP_ANS */
	struct proto_cloud_err err;
	char *group;
};

/* CLOUD_STATS_REQ has an empty payload. */
struct proto_cloud_subnet_stats {
	char *subnet_id;      /* "" = no subnet configured */
	uint64_t starts_ok;   /* RunInstances successes since the previous answer */
	uint64_t starts_fail; /* ... and failures */
	uint64_t instances;   /* instances in this subnet at the last list */
};

struct proto_cloud_stats_ans { /* CLOUD_STATS_ANS */
	struct proto_cloud_err err;
	struct proto_cloud_subnet_stats *v;
	uint32_t n; /* 0 when the driver keeps none (loopback) */
};

/* Bytes a proto_cloud_inst takes on the wire (to pack list parts under PROTO_MAX_MSG). */
size_t proto_cloud_inst_size(const struct proto_cloud_inst *i);
size_t proto_cloud_err_size(const struct proto_cloud_err *e);

/* Requests take a timeout_ms (the requester's deadline); answers a flags argument (0 or
 * PROTO_F_MORE on streamed parts). Same contract as proto.h's typed messages. */
int proto_cloud_create_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			      const struct proto_cloud_create *m);
int proto_cloud_create_decode(const struct proto_msg *msg, struct proto_cloud_create *m);
void proto_cloud_create_free(struct proto_cloud_create *m);

int proto_cloud_create_ans_encode(struct proto_wbuf *w, uint32_t reqid,
				  const struct proto_cloud_create_ans *m);
int proto_cloud_create_ans_decode(const struct proto_msg *msg, struct proto_cloud_create_ans *m);
void proto_cloud_create_ans_free(struct proto_cloud_create_ans *m);

int proto_cloud_list_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			    const struct proto_cloud_list *m);
int proto_cloud_list_decode(const struct proto_msg *msg, struct proto_cloud_list *m);
void proto_cloud_list_free(struct proto_cloud_list *m);

int proto_cloud_list_ans_encode(struct proto_wbuf *w, uint32_t reqid, uint16_t flags,
				const struct proto_cloud_list_ans *m);
int proto_cloud_list_ans_decode(const struct proto_msg *msg, struct proto_cloud_list_ans *m);
void proto_cloud_list_ans_free(struct proto_cloud_list_ans *m);

int proto_cloud_destroy_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			       const struct proto_cloud_destroy *m);
int proto_cloud_destroy_decode(const struct proto_msg *msg, struct proto_cloud_destroy *m);
void proto_cloud_destroy_free(struct proto_cloud_destroy *m);

int proto_cloud_destroy_ans_encode(struct proto_wbuf *w, uint32_t reqid, uint16_t flags,
				   const struct proto_cloud_destroy_ans *m);
int proto_cloud_destroy_ans_decode(const struct proto_msg *msg, struct proto_cloud_destroy_ans *m);
void proto_cloud_destroy_ans_free(struct proto_cloud_destroy_ans *m);

int proto_cloud_tags_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			    const struct proto_cloud_tags_req *m);
int proto_cloud_tags_decode(const struct proto_msg *msg, struct proto_cloud_tags_req *m);
void proto_cloud_tags_free(struct proto_cloud_tags_req *m);

/* CLOUD_TAGS_ANS: just the error block. */
int proto_cloud_err_ans_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
			       const struct proto_cloud_err *m);
int proto_cloud_err_ans_decode(const struct proto_msg *msg, struct proto_cloud_err *m);
void proto_cloud_err_free(struct proto_cloud_err *m);

int proto_cloud_prices_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			      const struct proto_cloud_prices *m);
int proto_cloud_prices_decode(const struct proto_msg *msg, struct proto_cloud_prices *m);
void proto_cloud_prices_free(struct proto_cloud_prices *m);

int proto_cloud_prices_ans_encode(struct proto_wbuf *w, uint32_t reqid,
				  const struct proto_cloud_prices_ans *m);
int proto_cloud_prices_ans_decode(const struct proto_msg *msg, struct proto_cloud_prices_ans *m);
void proto_cloud_prices_ans_free(struct proto_cloud_prices_ans *m);

int proto_cloud_qgroup_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			      const struct proto_cloud_qgroup *m);
int proto_cloud_qgroup_decode(const struct proto_msg *msg, struct proto_cloud_qgroup *m);
void proto_cloud_qgroup_free(struct proto_cloud_qgroup *m);

int proto_cloud_qgroup_ans_encode(struct proto_wbuf *w, uint32_t reqid,
				  const struct proto_cloud_qgroup_ans *m);
int proto_cloud_qgroup_ans_decode(const struct proto_msg *msg, struct proto_cloud_qgroup_ans *m);
void proto_cloud_qgroup_ans_free(struct proto_cloud_qgroup_ans *m);

int proto_cloud_stats_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms);
int proto_cloud_stats_decode(const struct proto_msg *msg);

int proto_cloud_stats_ans_encode(struct proto_wbuf *w, uint32_t reqid,
				 const struct proto_cloud_stats_ans *m);
int proto_cloud_stats_ans_decode(const struct proto_msg *msg, struct proto_cloud_stats_ans *m);
void proto_cloud_stats_ans_free(struct proto_cloud_stats_ans *m);

#endif
