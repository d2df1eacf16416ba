/*
 * sched_internal.h - the scheduler's per-pass structures, shared by its files only.
 *
 * The placement index: per instance type, the eligible instances of that type as leaves in
 * instance order (pending creates first, then by instance ID, then the placeholders this pass
 * creates). "The most preferred instance of type T that accommodates q" is the first leaf, in
 * instance order, with the highest preference key among those that accommodate q.
 *
 * The leaves are split by key into classes (readiness x number listed, the busiest together in
 * one class per readiness), and each class has its own tree over the leaf positions: each node
 * keeps the component-wise maximum remaining capacity, and the maximum key, of the class's
 * leaves below it. A query walks the classes from the highest key down and stops at the first
 * that has a fit; within a class every key is the same (but in the last class of a
 * readiness), so the search is a leftmost first fit, pruned by capacity alone. One tree over
 * all keys (the earlier design) kept maxima of key and capacity that came from different
 * instances (busy ones have high keys and little room), so a large request descended into
 * many busy subtrees that could not take it.
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
	int32_t worker;	   /* input index; -1 for a placeholder created by this pass */
	uint32_t n_listed; /* running + starting + placed during this pass */
	bool ready;	   /* idle or running (a start can happen now) */
	bool has_id;	   /* false for a pending create */
};

struct sched_node {
	int64_t vcpus, ram, scratch, gpus, vram, key;
};

#define SCHED_MEMO 4

/*
 * Key classes: per readiness, one for each number listed below SCHED_CLASS_N - 1 and one for
 * all the busier instances (whose keys differ, so its search still uses the key bound). The
 * class number grows with the key, so a higher class always holds higher keys.
 */
#define SCHED_CLASS_N  8
#define SCHED_CLASSES  (2 * SCHED_CLASS_N)
#define SCHED_NO_CLASS 0xff /* key -1: in no class, never chosen */

struct sched_tree {
	uint32_t n, cap; /* leaves used; capacity, a power of two */
	struct sched_leaf *leaf;
	uint8_t *cls; /* per leaf: its class, or SCHED_NO_CLASS */
	/* Per class: 2 * cap nodes, root at 1 (allocated when first used, kept across passes);
	 * the leaves of other classes are dead nodes. live: the nodes are current. */
	struct sched_node *node[SCHED_CLASSES];
	uint32_t count[SCHED_CLASSES];
	bool live[SCHED_CLASSES];
	/*
	 * Requests that found nothing since the last append. Within a pass capacity only
	 * shrinks (placements) or grows by appends, and "accommodates" is monotone in the
	 * request, so anything at least as large as a memoised failure fails too: the long tail
	 * of a big queue that fits nowhere costs O(1) per type instead of a descent.
	 */
	struct res_vec fail[SCHED_MEMO];
	uint32_t n_fail, next_fail;
};

struct sched_wview {
	struct res_vec rem;
	bool eligible, has_id, ready;
};

struct sched {
	const struct cfg_cluster *cl;
	struct sched_quota quota;
	double hourly_cap;	 /* 0: no budget cap (sched_budget.c) */
	uint32_t *type_rank;	 /* per type index: position in instance order (4.2 step 1) */
	struct sched_tree *tree; /* per type index */
	/* Reused across passes. */
	void *order_buf;
	size_t order_cap;
	uint32_t *prev_order; /* last pass's order: the starting permutation of the next sort */
	size_t prev_n;
	uint32_t *wl;		/* per worker: n_listed */
	struct sched_wview *wv; /* per worker: what the index needs, read in input order */
	uint32_t *wsort;	/* every worker, in instance order; kept for the next pass */
	size_t wsort_n;		/* workers wsort was sorted for (0: none) */
	size_t w_cap;
	uint32_t *oms; /* over-max-supervisors list */
	size_t oms_cap;
};

int sched_result_push(struct sched_result *r, struct sched_decision d);
int sched_result_push_slot(struct sched_result *r, const struct sched_input *in, size_t ci,
			   uint8_t kind, uint8_t reason);

/*
 * A container's place in the queue order (sched_order.c), with what the pass needs to know of
 * it without touching the container (flags).
 */
struct sched_okey {
	int64_t prio; /* negated: ascending sort */
	int64_t seen;
	uint32_t idx;  /* input index */
	uint8_t cls;   /* bit 1: not in R; bit 0: not Locked */
	uint8_t flags; /* SCHED_OF_* */
};

#define SCHED_OF_SUPERVISOR 0x01
#define SCHED_OF_PRIO0	    0x02 /* priority < 1 */
#define SCHED_OF_WAITING    0x04 /* Queued or Locked */
#define SCHED_OF_UNLOCKABLE 0x08 /* Locked, not in R, no runner present */
#define SCHED_OF_BADTYPE    0x10 /* a candidate type index out of range */

struct sched_order_sums {
	int64_t running;	 /* |R|: in_running plus the uncached runners */
	sched_time longest_wait; /* 4.7 */
};

/* The queue in order (4.2 step 2), in s->order_buf; NULL on ENOMEM. */
const struct sched_okey *
sched_order(struct sched *s, const struct sched_input *in, struct sched_order_sums *sum);

/*
 * sched_index.c. Usage: reset (n leaves expected), fill leaf[0..n) and set n, build; then
 * best / update (after changing a leaf's rem, n_listed and key) / append. build, update and
 * append return 0 or -ENOMEM (a class met for the first time needs its nodes); after a
 * failure the tree is unusable until the next build.
 */
int sched_tree_reset(struct sched_tree *t, uint32_t n);
int sched_tree_append(struct sched_tree *t, const struct sched_leaf *l);
int sched_tree_build(struct sched_tree *t);
int sched_tree_update(struct sched_tree *t, uint32_t j);
/* Best leaf accommodating q: index, or -1 (failures are memoised, see struct sched_tree). */
int32_t sched_tree_best(struct sched_tree *t, const struct res_vec *q);
/* The same, but only leaves with a key >= min_key matter: the result is -1 or the best leaf,
 * or some leaf with a key below min_key when the best is one (the caller discards it). */
int32_t sched_tree_best_from(struct sched_tree *t, const struct res_vec *q, int64_t min_key);
void sched_tree_free(struct sched_tree *t);
/* Leaf key from its state (dead when full, at the per-instance limit, or with no VCPU left). */
int64_t sched_leaf_key(const struct sched_leaf *l, int64_t max_per_instance);

#endif
