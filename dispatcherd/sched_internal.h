/*
 * sched_internal.h - the scheduler's per-pass structures, shared by its files only.
 *
 * The placement index: one tree per instance type over the eligible instances of that type
 * (leaves in instance order: pending creates first, then by instance ID, then the placeholders
 * this pass creates). Each node keeps the component-wise maximum remaining capacity and the
 * maximum preference key below it, so "the most preferred instance of type T that
 * accommodates q" is a pruned descent, ~O(log instances) instead of a scan (weakness 15).
 */
#ifndef ADC_SCHED_INTERNAL_H
#define ADC_SCHED_INTERNAL_H

#include "instance_types.h"
#include "scheduler.h"

/* Preference key: ready instances first, then the busiest; -1 = cannot take anything. */
#define SCHED_KEY_READY ((int64_t)1 << 40)

struct sched_leaf {
	struct res_vec rem;
	int64_t key;
	int32_t worker;		/* input index; -1 for a placeholder created by this pass */
	uint32_t n_listed;	/* running + starting + placed during this pass */
	bool ready;		/* idle or running (a start can happen now) */
	bool has_id;		/* false for a pending create */
};

struct sched_node {
	int64_t vcpus, ram, scratch, gpus, vram, key;
};

#define SCHED_MEMO 4

struct sched_tree {
	uint32_t n, cap;	/* leaves used; capacity, a power of two */
	struct sched_leaf *leaf;
	struct sched_node *node;	/* 2 * cap entries, root at 1 */
	/*
	 * Requests that found nothing since the last append. Within a pass capacity only
	 * shrinks (placements) or grows by appends, and "accommodates" is monotone in the
	 * request, so anything at least as large as a memoised failure fails too: the long tail
	 * of a big queue that fits nowhere costs O(1) per type instead of a descent.
	 */
	struct res_vec fail[SCHED_MEMO];
	uint32_t n_fail, next_fail;
};

struct sched {
	const struct cfg_cluster *cl;
	struct sched_quota quota;
	uint32_t *type_rank;	/* per type index: position in instance order (4.2 step 1) */
	struct sched_tree *tree;	/* per type index */
	/* Reused across passes. */
	void *order_buf;
	size_t order_cap;
	uint32_t *prev_order;	/* last pass's order: the starting permutation of the next sort */
	size_t prev_n;
	uint32_t *wl;		/* per worker: n_listed */
	uint32_t *wsort;
	size_t w_cap;
	uint32_t *oms;		/* over-max-supervisors list */
	size_t oms_cap;
};

int sched_result_push(struct sched_result *r, struct sched_decision d);
int sched_result_push_slot(struct sched_result *r, const struct sched_input *in, size_t ci,
			   uint8_t kind, uint8_t reason);

/* sched_order.c: ctr indices in queue order (4.2 step 2) into s->order_buf; NULL on ENOMEM. */
uint32_t *sched_order(struct sched *s, const struct sched_input *in);

/* sched_index.c */
int sched_tree_reset(struct sched_tree *t, uint32_t n);
int sched_tree_append(struct sched_tree *t, const struct sched_leaf *l);
void sched_tree_build(struct sched_tree *t);
void sched_tree_update(struct sched_tree *t, uint32_t j);
/* Best leaf accommodating q: index, or -1 (failures are memoised, see struct sched_tree). */
int32_t sched_tree_best(struct sched_tree *t, const struct res_vec *q);
void sched_tree_free(struct sched_tree *t);
/* Leaf key from its state (dead when full, at the per-instance limit, or with no VCPU left). */
int64_t sched_leaf_key(const struct sched_leaf *l, int64_t max_per_instance);

#endif
