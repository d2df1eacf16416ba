/*
 * proto_pending.h - a channel's outstanding requests (internal to proto_chan.c).
 *
 * A hash by reqid finds the request an answer belongs to; a binary min-heap by deadline
 * lets one uv_timer_t serve thousands of requests (only the earliest deadline is armed).
 * Entries whose deadline passed stay a while as "expired" tombstones, so that a late
 * answer can be told apart from an answer nobody asked for (a protocol violation).
 */
#ifndef ADC_PROTO_PENDING_H
#define ADC_PROTO_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto_chan.h"

struct proto_pend {
	uint32_t reqid;
	uint16_t ans_type; /* the request's type + 1: the only answer accepted */
	bool expired;	   /* deadline passed: cb already told, answers dropped */
	uint64_t deadline; /* uv_now() milliseconds */
	proto_reply_cb cb;
	void *arg;
	size_t heap_idx;
	struct proto_pend *hnext; /* hash chain */
};

struct proto_pend_table {
	struct proto_pend **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;	 /* entries, tombstones included */
	struct proto_pend **heap;
	size_t heap_cap;
};

int proto_pend_init(struct proto_pend_table *t);
/* Free every entry without calling anything. */
void proto_pend_fini(struct proto_pend_table *t);
struct proto_pend *proto_pend_find(const struct proto_pend_table *t, uint32_t reqid);
/* Insert p (reqid and deadline set, not yet present). 0 or -ENOMEM (p not inserted). */
int proto_pend_add(struct proto_pend_table *t, struct proto_pend *p);
/* Unlink p from the hash and the heap; the caller frees it. */
void proto_pend_remove(struct proto_pend_table *t, struct proto_pend *p);
/* The entry with the earliest deadline, or NULL. */
struct proto_pend *proto_pend_min(const struct proto_pend_table *t);
void proto_pend_set_deadline(struct proto_pend_table *t, struct proto_pend *p, uint64_t deadline);

#endif
