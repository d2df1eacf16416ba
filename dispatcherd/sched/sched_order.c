/*
 * sched_order.c - queue order of 4.2 step 2: in the running set first, then Locked before
 * others, then priority descending, then first-seen ascending (index as the last tie-break, so
 * the order is total and the pass deterministic).
 *
 * The containers are read once, in input order (a sequential scan: the walk in queue order
 * touches them in random order, and at 100,000 containers each of those touches is a cache
 * miss). The scan writes a compact key per container, with the flags the rest of the pass
 * needs to pass over a container without touching it, and the sums the pass needs (running
 * count, oldest waiting container). The keys are then laid out in the last pass's order and
 * sorted: that order is nearly right, so the sort pulls out the few keys that are out of place
 * (each inversion met on the way costs both of its keys), sorts those, and merges them back:
 * O(n + m log m) for m keys moved, instead of a merge per level of the disorder.
 *
 * Memory: the keys by input index and the keys in order (48 bytes a container) are kept from
 * pass to pass; the keys out of place and the sort's scratch are sized to how many there are
 * and freed after the pass. Kept at the queue's size they were another 52 bytes a container,
 * resident from the first pass that found the order scrambled (a burst of priority changes)
 * for the dispatcher's life.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

static inline bool
sched_okey_less(const struct sched_okey *a, const struct sched_okey *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	if (a->seen != b->seen)
		return a->seen < b->seen;
	return a->idx < b->idx;
}

/* Merge a[0..na) and b[0..nb) into out. */
static void
sched_merge(const struct sched_okey *a, size_t na, const struct sched_okey *b, size_t nb,
	    struct sched_okey *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na && j < nb)
		out[k++] = sched_okey_less(&b[j], &a[i]) ? b[j++] : a[i++];
	memcpy(&out[k], &a[i], (na - i) * sizeof(*a));
	k += na - i;
	memcpy(&out[k], &b[j], (nb - j) * sizeof(*b));
}

/*
 * Natural merge sort of v[0..n) using tmp; returns whichever buffer holds the result.
 * runs[] holds run starts (n + 1 entries).
 */
static struct sched_okey *
sched_msort(struct sched_okey *v, struct sched_okey *tmp, size_t n, uint32_t *runs)
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
				sched_merge(&v[lo], mid - lo, &v[mid], hi - mid, &tmp[lo]);
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

/* The keys out of place, in a buffer that grows with them (most passes have a few). */
struct sched_side {
	struct sched_okey *k;
	size_t n, cap;
};

static bool
sched_side_push(struct sched_side *sd, const struct sched_okey *a, const struct sched_okey *b)
{
	if (sd->cap - sd->n < 2) {
		size_t cap = sd->cap ? 2 * sd->cap : 256;
		struct sched_okey *k = realloc(sd->k, cap * sizeof(*k));

		if (k == NULL)
			return false;
		sd->k = k;
		sd->cap = cap;
	}
	sd->k[sd->n++] = *a;
	sd->k[sd->n++] = *b;
	return true;
}

/*
 * Sort kc[perm[0..n)] (kc itself when perm is NULL); returns the buffer that holds the result
 * (v or kc), NULL when out of memory. The keys are gathered into v as a sorted subsequence;
 * every key that breaks it goes to the side buffer, together with the kept key it inverts
 * with (so it holds at most twice the keys out of place), then those are sorted and merged
 * back into kc.
 */
static struct sched_okey *
sched_nearly_sorted(struct sched_okey *kc, const uint32_t *perm, size_t n, struct sched_okey *v)
{
	struct sched_side side = { 0 };
	struct sched_okey *out = NULL, *tmp = NULL;
	uint32_t *runs = NULL;
	size_t m = 0;

	for (size_t p = 0; p < n; p++) {
		const struct sched_okey *k = &kc[perm != NULL ? perm[p] : p];

		/* The gather is random in kc (but kc is 24 bytes a key, not 144 a container). */
		if (perm != NULL && p + 16 < n)
			__builtin_prefetch(&kc[perm[p + 16]]);
		if (m > 0 && sched_okey_less(k, &v[m - 1])) {
			m--;
			if (!sched_side_push(&side, &v[m], k))
				goto out;
		} else {
			v[m++] = *k;
		}
	}
	if (side.n == 0)
		return v;
	tmp = malloc(side.n * sizeof(*tmp));
	runs = malloc((side.n + 1) * sizeof(*runs));
	if (tmp != NULL && runs != NULL) {
		sched_merge(v, m, sched_msort(side.k, tmp, side.n, runs), side.n, kc);
		out = kc;
	}
out:
	free(runs);
	free(tmp);
	free(side.k);
	return out;
}

/* Keep this order for the next pass; without memory the next sort just starts from scratch. */
static void
sched_order_remember(struct sched *s, const struct sched_okey *order, size_t n)
{
	if (s->prev_n != n || s->prev_order == NULL) {
		uint32_t *p = realloc(s->prev_order, (n ? n : 1) * sizeof(*p));

		if (p == NULL) {
			s->prev_n = 0;
			return;
		}
		s->prev_order = p;
	}
	for (size_t i = 0; i < n; i++)
		s->prev_order[i] = order[i].idx;
	s->prev_n = n;
}

static uint8_t
sched_okey_flags(const struct sched *s, const struct sched_ctr *c)
{
	uint8_t f = 0;

	if (c->supervisor)
		f |= SCHED_OF_SUPERVISOR;
	if (c->priority < 1)
		f |= SCHED_OF_PRIO0;
	if (c->state == SCHED_QUEUED || c->state == SCHED_LOCKED)
		f |= SCHED_OF_WAITING;
	if (c->state == SCHED_LOCKED && !c->in_running && !c->runner_present)
		f |= SCHED_OF_UNLOCKABLE;
	for (uint32_t k = 0; k < c->n_types + c->n_fallback; k++)
		if (c->types[k] >= s->cl->n_instance_types)
			f |= SCHED_OF_BADTYPE;
	return f;
}

/* The sequential scan: a key per container (by input index), and the pass's sums. */
static void
sched_order_scan(const struct sched *s, const struct sched_input *in, struct sched_okey *kc,
		 struct sched_order_sums *sum)
{
	sched_time oldest = 0;
	bool any = false;

	sum->running = (int64_t)in->n_running_uncached;
	for (size_t i = 0; i < in->n_ctrs; i++) {
		const struct sched_ctr *c = &in->ctrs[i];

		kc[i] = (struct sched_okey){
			/* -INT64_MIN overflows; priorities are never that low, but stay defined. */
			.prio = c->priority == INT64_MIN ? INT64_MAX : -c->priority,
			.seen = c->first_seen,
			.idx = (uint32_t)i,
			.cls = (uint8_t)((c->in_running ? 0u : 2u) |
					 (c->state == SCHED_LOCKED ? 0u : 1u)),
			.flags = sched_okey_flags(s, c),
		};
		sum->running += c->in_running;
		/* 4.7: the longest wait among containers that want to run and do not. */
		if (c->priority < 1 || c->in_running ||
		    (c->state != SCHED_QUEUED && c->state != SCHED_LOCKED))
			continue;
		if (!any || c->created_at < oldest)
			oldest = c->created_at;
		any = true;
	}
	sum->longest_wait = any ? in->now - oldest : 0;
}

const struct sched_okey *
sched_order(struct sched *s, const struct sched_input *in, struct sched_order_sums *sum)
{
	size_t n = in->n_ctrs;
	size_t need = 2 * (n ? n : 1) * sizeof(struct sched_okey);
	struct sched_okey *kc, *k;
	bool reuse = s->prev_order != NULL && s->prev_n == n;

	/* Shrunk too when the queue has: the keys are rewritten in full on every pass. */
	if (need > s->order_cap || need < s->order_cap / 4) {
		void *b = realloc(s->order_buf, need);

		if (b == NULL)
			return NULL;
		s->order_buf = b;
		s->order_cap = need;
	}
	kc = s->order_buf;
	k = kc + n;
	sched_order_scan(s, in, kc, sum);
	/* Start from the last order when the queue has the same size (any permutation is
	 * correct; a close one is cheap). */
	if ((k = sched_nearly_sorted(kc, reuse ? s->prev_order : NULL, n, k)) == NULL)
		return NULL;
	sched_order_remember(s, k, n);
	return k;
}
