/*
 * sched_index.c - the per-type placement tree (see sched_internal.h).
 *
 * A leaf that cannot take anything has key -1 and INT64_MIN capacities, so every subtree check
 * prunes it. The maxima are only an upper bound (they may come from different leaves), so the
 * descent can still visit a subtree that holds no fitting leaf; in practice the instances that
 * matter (the busiest ready ones) are found first and the key bound prunes the rest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

static const struct sched_node sched_dead_node = {
	INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, -1,
};

int64_t sched_leaf_key(const struct sched_leaf *l, int64_t max_per_instance)
{
	if (l->rem.vcpus <= 0)
		return -1;
	if (max_per_instance > 0 && (int64_t)l->n_listed >= max_per_instance)
		return -1;
	return (l->ready ? SCHED_KEY_READY : 0) + l->n_listed;
}

static struct sched_node sched_leaf_node(const struct sched_leaf *l)
{
	if (l->key < 0)
		return sched_dead_node;
	return (struct sched_node){ l->rem.vcpus, l->rem.ram, l->rem.scratch, l->rem.gpus,
				    l->rem.gpu_vram, l->key };
}

static int64_t sched_imax(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static void sched_node_pull(struct sched_node *v, uint32_t i)
{
	const struct sched_node *a = &v[2 * i], *b = &v[2 * i + 1];

	v[i] = (struct sched_node){
		sched_imax(a->vcpus, b->vcpus), sched_imax(a->ram, b->ram),
		sched_imax(a->scratch, b->scratch), sched_imax(a->gpus, b->gpus),
		sched_imax(a->vram, b->vram), sched_imax(a->key, b->key),
	};
}

/* Make room for at least n leaves (contents are discarded by reset, kept by growth). */
static int sched_tree_reserve(struct sched_tree *t, uint32_t n)
{
	uint32_t cap = t->cap ? t->cap : 16;
	struct sched_leaf *l;
	struct sched_node *v;

	if (n <= t->cap)
		return 0;
	while (cap < n) {
		if (cap > UINT32_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	l = realloc(t->leaf, cap * sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	t->leaf = l;
	v = realloc(t->node, 2 * (size_t)cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	t->node = v;
	t->cap = cap;
	return 0;
}

int sched_tree_reset(struct sched_tree *t, uint32_t n)
{
	t->n = 0;
	t->n_fail = t->next_fail = 0;
	return sched_tree_reserve(t, n);
}

/* Recompute every node: O(cap). Used after filling and after growth. */
void sched_tree_build(struct sched_tree *t)
{
	if (t->cap == 0)
		return;
	for (uint32_t j = 0; j < t->cap; j++)
		t->node[t->cap + j] = j < t->n ? sched_leaf_node(&t->leaf[j]) : sched_dead_node;
	for (uint32_t i = t->cap - 1; i >= 1; i--)
		sched_node_pull(t->node, i);
}

void sched_tree_update(struct sched_tree *t, uint32_t j)
{
	uint32_t i = t->cap + j;

	t->node[i] = sched_leaf_node(&t->leaf[j]);
	for (i /= 2; i >= 1; i /= 2)
		sched_node_pull(t->node, i);
}

int sched_tree_append(struct sched_tree *t, const struct sched_leaf *l)
{
	uint32_t old = t->cap;
	int rc = sched_tree_reserve(t, t->n + 1);

	if (rc < 0)
		return rc;
	t->leaf[t->n++] = *l;
	t->n_fail = t->next_fail = 0;	/* new capacity: old failures may fit now */
	if (t->cap != old)
		sched_tree_build(t);
	else
		sched_tree_update(t, t->n - 1);
	return 0;
}

/* Whether some leaf below could accommodate q (an upper bound, see the file comment). */
static bool sched_node_may_fit(const struct sched_node *v, const struct res_vec *q)
{
	return v->key >= 0 && v->vcpus > 0 && v->vcpus >= q->vcpus && v->ram >= q->ram &&
	       v->scratch >= q->scratch && v->gpus >= q->gpus && v->vram >= q->gpu_vram;
}

struct sched_search {
	const struct sched_tree *t;
	const struct res_vec *q;
	int64_t key;
	int32_t best;
};

static void sched_tree_visit(struct sched_search *s, uint32_t i, uint32_t lo, uint32_t span)
{
	const struct sched_node *v = &s->t->node[i];
	uint32_t half = span / 2;

	if (!sched_node_may_fit(v, s->q))
		return;
	/* Nothing below can beat the best: lower key, or equal key but later in order. */
	if (s->best >= 0 && (v->key < s->key || (v->key == s->key && lo > (uint32_t)s->best)))
		return;
	if (span == 1) {
		const struct sched_leaf *l = &s->t->leaf[lo];

		if (itypes_accommodates(l->rem, *s->q) &&
		    (s->best < 0 || l->key > s->key || (l->key == s->key && lo < (uint32_t)s->best))) {
			s->best = (int32_t)lo;
			s->key = l->key;
		}
		return;
	}
	/* Higher key first so the bound prunes early; left first on a tie (instance order). */
	if (s->t->node[2 * i + 1].key > s->t->node[2 * i].key) {
		sched_tree_visit(s, 2 * i + 1, lo + half, half);
		sched_tree_visit(s, 2 * i, lo, half);
	} else {
		sched_tree_visit(s, 2 * i, lo, half);
		sched_tree_visit(s, 2 * i + 1, lo + half, half);
	}
}

static bool sched_vec_le(const struct res_vec *a, const struct res_vec *b)
{
	return a->vcpus <= b->vcpus && a->ram <= b->ram && a->scratch <= b->scratch &&
	       a->gpus <= b->gpus && a->gpu_vram <= b->gpu_vram;
}

int32_t sched_tree_best(struct sched_tree *t, const struct res_vec *q)
{
	struct sched_search s = { .t = t, .q = q, .key = -1, .best = -1 };

	if (t->n == 0)
		return -1;
	for (uint32_t i = 0; i < t->n_fail; i++)
		if (sched_vec_le(&t->fail[i], q))
			return -1;
	sched_tree_visit(&s, 1, 0, t->cap);
	if (s.best < 0) {
		t->fail[t->next_fail] = *q;
		t->next_fail = (t->next_fail + 1) % SCHED_MEMO;
		if (t->n_fail < SCHED_MEMO)
			t->n_fail++;
	}
	return s.best;
}

void sched_tree_free(struct sched_tree *t)
{
	free(t->leaf);
	free(t->node);
	memset(t, 0, sizeof(*t));
}
