/* sched.c - the scheduler object: per-config type ranking, the 4.3 state, reusable buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

/* Instance order between types (4.2 step 1): price, then VCPUs, RAM, Scratch descending. */
static int
sched_type_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct cfg_cluster *cl = ctx;
	const struct cfg_instance_type *a = &cl->instance_types[*(const uint32_t *)pa];
	const struct cfg_instance_type *b = &cl->instance_types[*(const uint32_t *)pb];

	if (a->price != b->price)
		return a->price < b->price ? -1 : 1;
	if (a->vcpus != b->vcpus)
		return a->vcpus > b->vcpus ? -1 : 1;
	if (a->ram != b->ram)
		return a->ram > b->ram ? -1 : 1;
	if (a->scratch != b->scratch)
		return a->scratch > b->scratch ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

int
sched_new(const struct cfg_cluster *cl, struct sched **out)
{
	size_t nt = cl->n_instance_types;
	struct sched *s = calloc(1, sizeof(*s));
	uint32_t *by_rank = calloc(nt ? nt : 1, sizeof(*by_rank));

	*out = NULL;
	if (s != NULL)
		s->cl = cl;
	if (s == NULL || by_rank == NULL || nt > UINT32_MAX ||
	    (s->type_rank = calloc(nt ? nt : 1, sizeof(*s->type_rank))) == NULL ||
	    (s->tree = calloc(nt ? nt : 1, sizeof(*s->tree))) == NULL) {
		free(by_rank);
		sched_free(s);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nt; i++)
		by_rank[i] = i;
	qsort_r(by_rank, nt, sizeof(*by_rank), sched_type_cmp, (void *)cl);
	for (uint32_t r = 0; r < nt; r++)
		s->type_rank[by_rank[r]] = r;
	free(by_rank);
	sched_quota_init(&s->quota, cl);
	*out = s;
	return 0;
}

void
sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->tree != NULL && i < s->cl->n_instance_types; i++)
		sched_tree_free(&s->tree[i]);
	free(s->tree);
	free(s->type_rank);
	free(s->order_buf);
	free(s->prev_order);
	free(s->wl);
	free(s->wsort);
	free(s->wv);
	free(s->oms);
	free(s);
}

struct sched_quota *
sched_quota_state(struct sched *s)
{
	return &s->quota;
}
