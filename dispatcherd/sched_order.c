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

/* Merge v[lo..mid) and v[mid..hi) into tmp[lo..hi). */
static void sched_merge(const struct sched_okey *v, struct sched_okey *tmp, size_t lo, size_t mid,
			size_t hi)
{
	size_t i = lo, j = mid, k = lo;

	while (i < mid && j < hi)
		tmp[k++] = sched_okey_less(&v[j], &v[i]) ? v[j++] : v[i++];
	while (i < mid)
		tmp[k++] = v[i++];
	while (j < hi)
		tmp[k++] = v[j++];
}

/*
 * Natural merge sort of v[0..n) using tmp; returns whichever buffer holds the result. Runs
 * already in order are found first, so an input that is (nearly) sorted - the last pass's
 * order, which the queue rarely disturbs - costs O(n) comparisons.
 * runs[] holds run starts (n + 1 entries).
 */
static struct sched_okey *sched_msort(struct sched_okey *v, struct sched_okey *tmp, size_t n,
				      uint32_t *runs)
{
	size_t nr = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && !sched_okey_less(&v[j], &v[j - 1]))
			j++;
		runs[nr++] = (uint32_t)i;
		i = j;
	}
	runs[nr] = (uint32_t)n;
	while (nr > 1) {
		size_t out = 0;

		for (size_t r = 0; r < nr; r += 2) {
			size_t lo = runs[r], mid = runs[r + 1], hi = r + 2 <= nr ? runs[r + 2] : n;

			if (r + 1 >= nr)
				memcpy(&tmp[lo], &v[lo], (hi - lo) * sizeof(*v));
			else
				sched_merge(v, tmp, lo, mid, hi);
			runs[out++] = (uint32_t)lo;
		}
		runs[out] = (uint32_t)n;
		nr = out;

		struct sched_okey *x = v;

		v = tmp;
		tmp = x;
	}
	return v;
}

/* Keep this order for the next pass; without memory the next sort just starts from scratch. */
static void sched_order_remember(struct sched *s, const uint32_t *order, size_t n)
{
	if (s->prev_n != n || s->prev_order == NULL) {
		uint32_t *p = realloc(s->prev_order, (n ? n : 1) * sizeof(*p));

		if (p == NULL) {
			s->prev_n = 0;
			return;
		}
		s->prev_order = p;
	}
	memcpy(s->prev_order, order, n * sizeof(*order));
	s->prev_n = n;
}

uint32_t *sched_order(struct sched *s, const struct sched_input *in)
{
	size_t n = in->n_ctrs;
	size_t need = 2 * n * sizeof(struct sched_okey) + (2 * n + 1) * sizeof(uint32_t);
	struct sched_okey *k, *sorted;
	uint32_t *out, *runs;
	bool reuse = s->prev_order != NULL && s->prev_n == n;

	if (need > s->order_cap) {
		void *b = realloc(s->order_buf, need);

		if (b == NULL)
			return NULL;
		s->order_buf = b;
		s->order_cap = need;
	}
	k = s->order_buf;
	out = (uint32_t *)(k + 2 * n);
	runs = out + n;
	for (size_t p = 0; p < n; p++) {
		/* Start from the last order when the queue has the same size (any permutation is
		 * correct; a close one is cheap). */
		size_t i = reuse ? s->prev_order[p] : p;
		const struct sched_ctr *c = &in->ctrs[i];

		k[p] = (struct sched_okey){
			/* -INT64_MIN overflows; priorities are never that low, but stay defined. */
			.prio = c->priority == INT64_MIN ? INT64_MAX : -c->priority,
			.seen = c->first_seen,
			.cls = (c->in_running ? 0u : 2u) | (c->state == SCHED_LOCKED ? 0u : 1u),
			.idx = (uint32_t)i,
		};
	}
	sorted = sched_msort(k, k + n, n, runs);
	for (size_t i = 0; i < n; i++)
		out[i] = sorted[i].idx;
	sched_order_remember(s, out, n);
	return out;
}
