/*
 * sched_order.c - queue order of 4.2 step 2: in the running set first, then Locked before
 * others, then priority descending, then first-seen ascending (index as the last tie-break, so
 * the order is total and the pass deterministic).
 *
 * A merge sort with the comparison inlined: qsort's indirect calls cost more than the rest of
 * a 100,000-container pass.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

struct sched_okey {
	int64_t prio;		/* negated: ascending sort */
	int64_t seen;
	uint32_t cls;		/* bit 1: not in R; bit 0: not Locked */
	uint32_t idx;
};

static inline bool sched_okey_less(const struct sched_okey *a, const struct sched_okey *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	if (a->seen != b->seen)
		return a->seen < b->seen;
	return a->idx < b->idx;
}

/* Bottom-up merge sort of v[0..n) using tmp; returns whichever buffer holds the result. */
static struct sched_okey *sched_msort(struct sched_okey *v, struct sched_okey *tmp, size_t n)
{
	/* Small runs by insertion first. */
	const size_t run = 16;

	for (size_t lo = 0; lo < n; lo += run) {
		size_t hi = lo + run < n ? lo + run : n;

		for (size_t i = lo + 1; i < hi; i++) {
			struct sched_okey k = v[i];
			size_t j = i;

			for (; j > lo && sched_okey_less(&k, &v[j - 1]); j--)
				v[j] = v[j - 1];
			v[j] = k;
		}
	}
	for (size_t w = run; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = sched_okey_less(&v[j], &v[i]) ? v[j++] : v[i++];
			while (i < mid)
				tmp[k++] = v[i++];
			while (j < hi)
				tmp[k++] = v[j++];
		}
		struct sched_okey *x = v;

		v = tmp;
		tmp = x;
	}
	return v;
}

uint32_t *sched_order(struct sched *s, const struct sched_input *in)
{
	size_t n = in->n_ctrs, need = 2 * n * sizeof(struct sched_okey) + n * sizeof(uint32_t);
	struct sched_okey *k, *sorted;
	uint32_t *out;

	if (need > s->order_cap) {
		void *b = realloc(s->order_buf, need);

		if (b == NULL)
			return NULL;
		s->order_buf = b;
		s->order_cap = need;
	}
	k = s->order_buf;
	out = (uint32_t *)(k + 2 * n);
	for (size_t i = 0; i < n; i++) {
		const struct sched_ctr *c = &in->ctrs[i];

		k[i] = (struct sched_okey){
			/* -INT64_MIN overflows; priorities are never that low, but stay defined. */
			.prio = c->priority == INT64_MIN ? INT64_MAX : -c->priority,
			.seen = c->first_seen,
			.cls = (c->in_running ? 0u : 2u) | (c->state == SCHED_LOCKED ? 0u : 1u),
			.idx = (uint32_t)i,
		};
	}
	sorted = sched_msort(k, k + n, n);
	for (size_t i = 0; i < n; i++)
		out[i] = sorted[i].idx;
	return out;
}
