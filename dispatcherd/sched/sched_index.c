/*
 * sched_index.c - the per-type placement index: one tree per key class (see sched_internal.h).
 *
 * A leaf that cannot take anything (key -1) is in no class. In a class's tree the leaves of
 * other classes are dead nodes (key -1, INT64_MIN capacities), so every subtree check prunes
 * them. Within a class the capacity maxima are still only an upper bound (they may come from
 * different leaves), but every leaf below has the same key (but in the last class of a
 * readiness), so a node that passes the check is worth descending into: the next such leaf is
 * the answer unless its subtree turns out not to fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

static const struct sched_node sched_dead_node = {
	INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, -1,
};

int64_t
sched_leaf_key(const struct sched_leaf *l, int64_t max_per_instance)
{
	if (l->rem.vcpus <= 0)
		return -1;
	if (max_per_instance > 0 && (int64_t)l->n_listed >= max_per_instance)
		return -1;
	return (l->ready ? SCHED_KEY_READY : 0) + l->n_listed;
}

/* The class of a key (monotone: a higher key never has a lower class). */
static uint8_t
sched_key_class(int64_t key)
{
	int64_t n = key & (SCHED_KEY_READY - 1);

	if (key < 0)
		return SCHED_NO_CLASS;
	if (n > SCHED_CLASS_N - 1)
		n = SCHED_CLASS_N - 1;
	return (uint8_t)((key >= SCHED_KEY_READY ? SCHED_CLASS_N : 0) + n);
}

static struct sched_node
sched_leaf_node(const struct sched_leaf *l)
{
	return (struct sched_node){ l->rem.vcpus, l->rem.ram,	   l->rem.scratch,
				    l->rem.gpus,  l->rem.gpu_vram, l->key };
}

static int64_t
sched_imax(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static void
sched_node_pull(struct sched_node *v, uint32_t i)
{
	const struct sched_node *a = &v[2 * i], *b = &v[2 * i + 1];

	v[i] = (struct sched_node){
		sched_imax(a->vcpus, b->vcpus),	    sched_imax(a->ram, b->ram),
		sched_imax(a->scratch, b->scratch), sched_imax(a->gpus, b->gpus),
		sched_imax(a->vram, b->vram),	    sched_imax(a->key, b->key),
	};
}

/* Make room for at least n leaves. Growth drops the class nodes: the caller rebuilds. */
static int
sched_tree_reserve(struct sched_tree *t, uint32_t n)
{
	uint32_t cap = t->cap ? t->cap : 16;
	struct sched_leaf *l;
	uint8_t *k;

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
	k = realloc(t->cls, cap * sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	t->cls = k;
	for (int c = 0; c < SCHED_CLASSES; c++) {
		free(t->node[c]);
		t->node[c] = NULL;
		t->live[c] = false;
	}
	t->cap = cap;
	return 0;
}

int
sched_tree_reset(struct sched_tree *t, uint32_t n)
{
	t->n = 0;
	t->n_fail = t->next_fail = 0;
	return sched_tree_reserve(t, n);
}

/* Nodes for class c, all dead: O(cap), paid once per class per pass at most. */
static int
sched_class_open(struct sched_tree *t, uint8_t c)
{
	struct sched_node *v = t->node[c];

	if (v == NULL && (v = malloc(2 * (size_t)t->cap * sizeof(*v))) == NULL)
		return -ENOMEM;
	t->node[c] = v;
	for (uint32_t i = 0; i < 2 * t->cap; i++)
		v[i] = sched_dead_node;
	t->live[c] = true;
	return 0;
}

static void
sched_class_set(struct sched_tree *t, uint8_t c, uint32_t j, const struct sched_node *leaf)
{
	struct sched_node *v = t->node[c];
	uint32_t i = t->cap + j;

	v[i] = *leaf;
	for (i /= 2; i >= 1; i /= 2)
		sched_node_pull(v, i);
}

/* Recompute every class from the leaves: O(cap) per class present. */
int
sched_tree_build(struct sched_tree *t)
{
	if (t->cap == 0)
		return 0;
	memset(t->count, 0, sizeof(t->count));
	for (uint32_t j = 0; j < t->n; j++) {
		t->cls[j] = sched_key_class(t->leaf[j].key);
		if (t->cls[j] != SCHED_NO_CLASS)
			t->count[t->cls[j]]++;
	}
	for (uint8_t c = 0; c < SCHED_CLASSES; c++) {
		t->live[c] = false;
		if (t->count[c] > 0 && sched_class_open(t, c) < 0)
			return -ENOMEM;
	}
	for (uint32_t j = 0; j < t->n; j++)
		if (t->cls[j] != SCHED_NO_CLASS)
			t->node[t->cls[j]][t->cap + j] = sched_leaf_node(&t->leaf[j]);
	for (uint8_t c = 0; c < SCHED_CLASSES; c++)
		for (uint32_t i = t->cap - 1; t->count[c] > 0 && i >= 1; i--)
			sched_node_pull(t->node[c], i);
	return 0;
}

int
sched_tree_update(struct sched_tree *t, uint32_t j)
{
	uint8_t old = t->cls[j], c = sched_key_class(t->leaf[j].key);
	struct sched_node leaf = sched_leaf_node(&t->leaf[j]);

	if (c != old) {
		if (c != SCHED_NO_CLASS && !t->live[c] && sched_class_open(t, c) < 0)
			return -ENOMEM;
		if (old != SCHED_NO_CLASS) {
			sched_class_set(t, old, j, &sched_dead_node);
			t->count[old]--;
		}
		if (c != SCHED_NO_CLASS)
			t->count[c]++;
		t->cls[j] = c;
	}
	if (c != SCHED_NO_CLASS)
		sched_class_set(t, c, j, &leaf);
	return 0;
}

int
sched_tree_append(struct sched_tree *t, const struct sched_leaf *l)
{
	uint32_t old = t->cap;
	int rc = sched_tree_reserve(t, t->n + 1);

	if (rc < 0)
		return rc;
	t->leaf[t->n] = *l;
	t->cls[t->n++] = SCHED_NO_CLASS;
	t->n_fail = t->next_fail = 0; /* new capacity: old failures may fit now */
	if (t->cap != old)
		return sched_tree_build(t);
	return sched_tree_update(t, t->n - 1);
}

/* Whether some leaf below could accommodate q (an upper bound, see the file comment). */
static bool
sched_node_may_fit(const struct sched_node *v, const struct res_vec *q)
{
	return v->key >= 0 && v->vcpus > 0 && v->vcpus >= q->vcpus && v->ram >= q->ram &&
	       v->scratch >= q->scratch && v->gpus >= q->gpus && v->vram >= q->gpu_vram;
}

struct sched_search {
	const struct sched_tree *t;
	const struct sched_node *node; /* the class's */
	const struct res_vec *q;
	int64_t key;
	int32_t best;
};

static void
sched_tree_visit(struct sched_search *s, uint32_t i, uint32_t lo, uint32_t span)
{
	const struct sched_node *v = &s->node[i];
	uint32_t half = span / 2;

	if (!sched_node_may_fit(v, s->q))
		return;
	/* Nothing below can beat the best: lower key, or equal key but later in order. */
	if (s->best >= 0 && (v->key < s->key || (v->key == s->key && lo > (uint32_t)s->best)))
		return;
	if (span == 1) {
		const struct sched_leaf *l = &s->t->leaf[lo];

		if (itypes_accommodates(l->rem, *s->q) &&
		    (s->best < 0 || l->key > s->key ||
		     (l->key == s->key && lo < (uint32_t)s->best))) {
			s->best = (int32_t)lo;
			s->key = l->key;
		}
		return;
	}
	/* Higher key first so the bound prunes early; left first on a tie (instance order). */
	if (s->node[2 * i + 1].key > s->node[2 * i].key) {
		sched_tree_visit(s, 2 * i + 1, lo + half, half);
		sched_tree_visit(s, 2 * i, lo, half);
	} else {
		sched_tree_visit(s, 2 * i, lo, half);
		sched_tree_visit(s, 2 * i + 1, lo + half, half);
	}
}

static bool
sched_vec_le(const struct res_vec *a, const struct res_vec *b)
{
	return a->vcpus <= b->vcpus && a->ram <= b->ram && a->scratch <= b->scratch &&
	       a->gpus <= b->gpus && a->gpu_vram <= b->gpu_vram;
}

int32_t
sched_tree_best_from(struct sched_tree *t, const struct res_vec *q, int64_t min_key)
{
	struct sched_search s = { .t = t, .q = q, .key = -1, .best = -1 };
	int lowest = min_key > 0 ? sched_key_class(min_key) : 0;

	if (t->n == 0)
		return -1;
	for (uint32_t i = 0; i < t->n_fail; i++)
		if (sched_vec_le(&t->fail[i], q))
			return -1;
	/* Every key of a class is above every key of the classes below it: the first class
	 * with a fit holds the answer. */
	for (int c = SCHED_CLASSES - 1; c >= lowest; c--) {
		if (t->count[c] == 0)
			continue;
		s.node = t->node[c];
		sched_tree_visit(&s, 1, 0, t->cap);
		if (s.best >= 0)
			return s.best;
	}
	if (lowest == 0) {
		/* A full search found nothing: memoise (a bounded one proves nothing). */
		t->fail[t->next_fail] = *q;
		t->next_fail = (t->next_fail + 1) % SCHED_MEMO;
		if (t->n_fail < SCHED_MEMO)
			t->n_fail++;
	}
	return -1;
}

int32_t
sched_tree_best(struct sched_tree *t, const struct res_vec *q)
{
	return sched_tree_best_from(t, q, 0);
}

void
sched_tree_free(struct sched_tree *t)
{
	free(t->leaf);
	free(t->cls);
	for (int c = 0; c < SCHED_CLASSES; c++)
		free(t->node[c]);
	memset(t, 0, sizeof(*t));
}
