/*
 * sched_pass_index.c - 4.2 step 1: remaining capacity of every instance, placed in the per-type
 * trees in instance order (pending creates first, then instance ID).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_pass.h"

static bool
sched_worker_has_id(const struct sched_worker *w)
{
	return w->id != NULL && w->id[0] != '\0';
}

/* Instances a container may be placed on (4.2 step 5). */
static bool
sched_worker_eligible(const struct sched_worker *w)
{
	return w->state <= SCHED_W_RUNNING && w->idle == SCHED_IDLE_RUN;
}

static int
sched_worker_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct sched_worker *v = ctx;
	const struct sched_worker *a = &v[*(const uint32_t *)pa], *b = &v[*(const uint32_t *)pb];
	bool ha = sched_worker_has_id(a), hb = sched_worker_has_id(b);
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (ha != hb)
		return ha ? 1 : -1;
	if (ha && (c = strcmp(a->id, b->id)) != 0)
		return c;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/*
 * Capacity minus what runs there. fix (weakness 3): each runner carries the full vector it was
 * charged at start (tmp scratch included). A runner whose container is not known (adopted after
 * a restart, not in the queue) makes the instance full, as the reference does.
 */
static struct res_vec
sched_worker_remaining(const struct cfg_cluster *cl, const struct sched_worker *w)
{
	struct res_vec r = itypes_capacity(&cl->instance_types[w->type]);

	for (uint32_t i = 0; i < w->n_run; i++) {
		if (!w->run[i].need_known)
			return (struct res_vec){ 0 };
		r = itypes_sub(r, w->run[i].need);
	}
	return r;
}

static int
sched_pass_buffers(struct sched *s, size_t nw)
{
	if (nw <= s->w_cap)
		return 0;
	uint32_t *a = realloc(s->wl, nw * sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	s->wl = a;
	a = realloc(s->wsort, nw * sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	s->wsort = a;
	s->wsort_n = 0; /* contents are not kept by a resize */

	struct sched_wview *v = realloc(s->wv, nw * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	s->wv = v;
	s->w_cap = nw;
	return 0;
}

/*
 * Every worker in instance order into s->wsort. The last pass's order is kept and only checked
 * (n - 1 comparisons) when the pool's array has the same size: the pool rarely reorders it.
 */
static void
sched_sort_workers(struct sched *s, const struct sched_input *in)
{
	size_t n = in->n_workers;
	bool sorted = s->wsort_n == n;

	for (size_t i = 1; sorted && i < n; i++)
		sorted = sched_worker_cmp(&s->wsort[i - 1], &s->wsort[i], (void *)in->workers) < 0;
	if (sorted)
		return;
	for (size_t i = 0; i < n; i++)
		s->wsort[i] = (uint32_t)i;
	if (n > 1)
		qsort_r(s->wsort, n, sizeof(*s->wsort), sched_worker_cmp, (void *)in->workers);
	s->wsort_n = n;
}

int
sched_pass_index(struct sched_pass *x)
{
	const struct sched_input *in = x->in;
	struct sched *s = x->s;
	size_t nt = s->cl->n_instance_types;
	int rc = sched_pass_buffers(s, in->n_workers);

	if (rc < 0)
		return rc;
	for (size_t t = 0; t < nt; t++)
		s->tree[t].n = 0;
	/* In input order: the workers and their runner lists are read sequentially. */
	for (size_t w = 0; w < in->n_workers; w++) {
		const struct sched_worker *wk = &in->workers[w];
		struct sched_wview *v = &s->wv[w];

		if (wk->type >= nt)
			return -EINVAL;
		s->wl[w] = wk->n_run;
		v->has_id = sched_worker_has_id(wk);
		v->eligible = sched_worker_eligible(wk);
		v->ready = wk->state == SCHED_W_IDLE || wk->state == SCHED_W_RUNNING;
		if (v->has_id)
			x->n_workers++;
		else
			x->n_pending++;
		if (v->eligible) {
			v->rem = sched_worker_remaining(s->cl, wk);
			s->tree[wk->type].n++;
		}
	}
	sched_sort_workers(s, in);
	for (size_t t = 0; t < nt; t++)
		if ((rc = sched_tree_reset(&s->tree[t], s->tree[t].n)) < 0)
			return rc;
	for (size_t i = 0; i < in->n_workers; i++) {
		uint32_t w = s->wsort[i];
		const struct sched_wview *v = &s->wv[w];
		struct sched_tree *t;
		struct sched_leaf *l;

		if (!v->eligible)
			continue;
		t = &s->tree[in->workers[w].type];
		l = &t->leaf[t->n++];
		*l = (struct sched_leaf){
			.rem = v->rem,
			.worker = (int32_t)w,
			.n_listed = in->workers[w].n_run,
			.has_id = v->has_id,
			.ready = v->ready,
		};
		l->key = sched_leaf_key(l, x->max_per_instance);
	}
	for (size_t t = 0; t < nt; t++)
		if ((rc = sched_tree_build(&s->tree[t])) < 0)
			return rc;
	return 0;
}

/* 4.2 step 5.5: the preferred instance among the candidate types (types[0..n), a container's
 * list or its fallback list), across the trees. */
bool
sched_pass_best(struct sched_pass *x, const uint32_t *types, uint32_t n, const struct res_vec *need,
		uint32_t *type, uint32_t *leaf)
{
	struct sched *s = x->s;
	int64_t bkey = -1;
	bool found = false;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = types[i];
		/* Only an instance at least as preferred as the best so far can matter. */
		int32_t j = sched_tree_best_from(&s->tree[t], need, found ? bkey : 0);
		int64_t k;

		if (j < 0)
			continue;
		k = s->tree[t].leaf[j].key;
		if (!found || k > bkey || (k == bkey && s->type_rank[t] < s->type_rank[*type])) {
			found = true;
			bkey = k;
			*type = t;
			*leaf = (uint32_t)j;
		}
	}
	return found;
}

/* List c on the leaf (tentatively, for the rest of this pass) and charge its need. 0 or -ENOMEM. */
int
sched_pass_place(struct sched_pass *x, uint32_t type, uint32_t j, const struct res_vec *need)
{
	struct sched_tree *t = &x->s->tree[type];
	struct sched_leaf *l = &t->leaf[j];

	l->rem = itypes_sub(l->rem, *need);
	l->n_listed++;
	l->key = sched_leaf_key(l, x->max_per_instance);
	if (l->worker >= 0)
		x->s->wl[l->worker]++;
	return sched_tree_update(t, j);
}

/* A placeholder for an instance this pass asked for, with c already listed on it. */
int
sched_pass_placeholder(struct sched_pass *x, uint32_t type, const struct res_vec *need)
{
	struct sched_leaf l = {
		.rem = itypes_sub(itypes_capacity(&x->s->cl->instance_types[type]), *need),
		.worker = -1,
		.n_listed = 1,
		.ready = false,
		.has_id = false,
	};

	l.key = sched_leaf_key(&l, x->max_per_instance);
	return sched_tree_append(&x->s->tree[type], &l);
}
