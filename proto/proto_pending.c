/* proto_pending.c - reqid hash + deadline min-heap of a channel's outstanding requests. */
#include "proto_pending.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROTO_PEND_BUCKETS0 64u

int
proto_pend_init(struct proto_pend_table *t)
{
	memset(t, 0, sizeof(*t));
	t->buckets = calloc(PROTO_PEND_BUCKETS0, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return -ENOMEM;
	t->nbuckets = PROTO_PEND_BUCKETS0;
	return 0;
}

void
proto_pend_fini(struct proto_pend_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->heap[i]);
	free(t->heap);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* reqids are handed out sequentially, so the low bits spread them evenly. */
static size_t
proto_pend_bucket(const struct proto_pend_table *t, uint32_t reqid)
{
	return reqid & (t->nbuckets - 1);
}

struct proto_pend *
proto_pend_find(const struct proto_pend_table *t, uint32_t reqid)
{
	struct proto_pend *p;

	for (p = t->buckets[proto_pend_bucket(t, reqid)]; p != NULL; p = p->hnext)
		if (p->reqid == reqid)
			return p;
	return NULL;
}

static int
proto_pend_rehash(struct proto_pend_table *t)
{
	size_t n = t->nbuckets * 2;
	struct proto_pend **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->count; i++) {
		struct proto_pend *p = t->heap[i];
		size_t k = p->reqid & (n - 1);

		p->hnext = b[k];
		b[k] = p;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	return 0;
}

static void
proto_pend_swap(struct proto_pend_table *t, size_t a, size_t b)
{
	struct proto_pend *x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->heap[a]->heap_idx = a;
	t->heap[b]->heap_idx = b;
}

static void
proto_pend_sift_up(struct proto_pend_table *t, size_t i)
{
	while (i > 0 && t->heap[(i - 1) / 2]->deadline > t->heap[i]->deadline) {
		proto_pend_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
proto_pend_sift_down(struct proto_pend_table *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < t->count && t->heap[l]->deadline < t->heap[m]->deadline)
			m = l;
		if (r < t->count && t->heap[r]->deadline < t->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		proto_pend_swap(t, i, m);
		i = m;
	}
}

int
proto_pend_add(struct proto_pend_table *t, struct proto_pend *p)
{
	size_t k;

	if (t->count == t->heap_cap) {
		size_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
		struct proto_pend **h = realloc(t->heap, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		t->heap = h;
		t->heap_cap = cap;
	}
	/* Keep the load factor at most 1; a failed rehash only makes chains longer. */
	if (t->count >= t->nbuckets)
		(void)proto_pend_rehash(t);
	k = proto_pend_bucket(t, p->reqid);
	p->hnext = t->buckets[k];
	t->buckets[k] = p;
	p->heap_idx = t->count;
	t->heap[t->count++] = p;
	proto_pend_sift_up(t, p->heap_idx);
	return 0;
}

void
proto_pend_remove(struct proto_pend_table *t, struct proto_pend *p)
{
	struct proto_pend **pp = &t->buckets[proto_pend_bucket(t, p->reqid)];
	size_t i = p->heap_idx;

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	t->count--;
	if (i != t->count) {
		proto_pend_swap(t, i, t->count);
		proto_pend_sift_down(t, i);
		proto_pend_sift_up(t, i);
	}
	p->hnext = NULL;
}

struct proto_pend *
proto_pend_min(const struct proto_pend_table *t)
{
	return t->count > 0 ? t->heap[0] : NULL;
}

void
proto_pend_set_deadline(struct proto_pend_table *t, struct proto_pend *p, uint64_t deadline)
{
	p->deadline = deadline;
	proto_pend_sift_down(t, p->heap_idx);
	proto_pend_sift_up(t, p->heap_idx);
}
