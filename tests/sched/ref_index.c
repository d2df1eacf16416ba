/*
 * ref_index.c - a brute-force placement index with the interface of sched_index.c: the leaves
 * in an array, and "best" a linear scan for the first leaf, in instance order, with the
 * highest key that accommodates the request. No bounds, no memo: the reference the real
 * index must agree with, decision for decision.
 */
#include "ref_rename.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

static int
ref_reserve(struct sched_tree *t, uint32_t n)
{
	struct sched_leaf *l;
	uint32_t cap = t->cap ? t->cap : 16;

	if (n <= t->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	l = realloc(t->leaf, cap * sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	t->leaf = l;
	t->cap = cap;
	return 0;
}

int
sched_tree_reset(struct sched_tree *t, uint32_t n)
{
	t->n = 0;
	return ref_reserve(t, n);
}

int
sched_tree_build(struct sched_tree *t)
{
	(void)t;
	return 0;
}

int
sched_tree_update(struct sched_tree *t, uint32_t j)
{
	(void)t;
	(void)j;
	return 0;
}

int
sched_tree_append(struct sched_tree *t, const struct sched_leaf *l)
{
	int rc = ref_reserve(t, t->n + 1);

	if (rc == 0)
		t->leaf[t->n++] = *l;
	return rc;
}

int32_t
sched_tree_best_from(struct sched_tree *t, const struct res_vec *q, int64_t min_key)
{
	(void)min_key; /* a hint, which the full scan does not need */
	return sched_tree_best(t, q);
}

int32_t
sched_tree_best(struct sched_tree *t, const struct res_vec *q)
{
	int32_t best = -1;

	for (uint32_t j = 0; j < t->n; j++) {
		const struct sched_leaf *l = &t->leaf[j];

		if (l->key < 0 || !itypes_accommodates(l->rem, *q))
			continue;
		if (best < 0 || l->key > t->leaf[best].key)
			best = (int32_t)j;
	}
	return best;
}

void
sched_tree_free(struct sched_tree *t)
{
	free(t->leaf);
	memset(t, 0, sizeof(*t));
}
