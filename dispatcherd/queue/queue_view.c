/* queue_view.c - the entries in scheduling order (queue_view), kept in order between calls.
 *
 * The scheduler reads the view on every turn, and at 100,000 containers a qsort of the whole
 * view after each change was the largest part of the turn (a change arrives almost every
 * turn: a mounts answer, a lock). Only a new entry, a removed one or a priority change moves
 * anything in the order (first_seen_ms and uuid never change), so the view is kept: a
 * removed or moved entry leaves a hole, a new or moved one waits in view_new, and queue_view
 * sorts only those and merges them into the rest in one walk that rewrites an entry's
 * position only where it changed. */
#include "queue_internal.h"

#include <stdlib.h>
#include <string.h>

static int
queue_view_cmp(const struct queue_ent *x, const struct queue_ent *y)
{
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->first_seen_ms != y->first_seen_ms)
		return x->first_seen_ms < y->first_seen_ms ? -1 : 1;
	return strcmp(x->uuid, y->uuid);
}

static int
queue_view_qsort_cmp(const void *a, const void *b)
{
	return queue_view_cmp(*(struct queue_ent *const *)a, *(struct queue_ent *const *)b);
}

/* 0, or -1 when out of memory: then the view is rebuilt from the map (queue_view). */
static int
queue_view_grow(struct queue_ent ***v, size_t *cap, size_t need)
{
	struct queue_ent **n;
	size_t c;

	if (*cap >= need)
		return 0;
	c = need + need / 4 + 16;
	if ((n = realloc(*v, c * sizeof(*n))) == NULL)
		return -1;
	*v = n;
	*cap = c;
	return 0;
}

static void
queue_view_unplace(struct queue *q, struct queue_ent *e)
{
	if (e->view_pos != 0) {
		q->view[e->view_pos - 1] = NULL;
		q->view_holes++;
		e->view_pos = 0;
	}
	if (e->view_new != 0) {
		struct queue_ent *last = q->view_new[--q->n_new];

		q->view_new[e->view_new - 1] = last;
		last->view_new = e->view_new;
		e->view_new = 0;
	}
}

void
queue_view_add(struct queue *q, struct queue_ent *e)
{
	e->view_pos = 0;
	e->view_new = 0;
	if (queue_view_grow(&q->view_new, &q->cap_new, q->n_new + 1) != 0) {
		q->view_lost = true; /* out of memory: rebuilt from the map (queue_view) */
		return;
	}
	q->view_new[q->n_new++] = e;
	e->view_new = (uint32_t)q->n_new;
}

void
queue_view_drop(struct queue *q, struct queue_ent *e)
{
	queue_view_unplace(q, e);
}

void
queue_view_moved(struct queue *q, struct queue_ent *e)
{
	if (e->view_pos == 0)
		return; /* waiting to be placed already */
	queue_view_unplace(q, e);
	queue_view_add(q, e);
}

/* Merge the sorted view_new into the placed entries (holes skipped), through view_tmp. */
static void
queue_view_merge(struct queue *q)
{
	struct queue_ent **add = q->view_new, **out = q->view_tmp;
	size_t i = 0, j = 0, o = 0, k = q->n_new;

	while (i < q->view_n || j < k) {
		struct queue_ent *x = i < q->view_n ? q->view[i] : NULL;

		if (i < q->view_n && x == NULL) {
			i++;
			continue;
		}
		if (j < k && (x == NULL || queue_view_cmp(add[j], x) < 0)) {
			out[o] = add[j++];
			out[o]->view_new = 0;
			out[o]->view_pos = (uint32_t)(o + 1);
		} else {
			out[o] = x;
			if (i != o) /* shifted: only then touch the entry */
				x->view_pos = (uint32_t)(o + 1);
			i++;
		}
		o++;
	}
	q->view_tmp = q->view;
	q->view = out;
	q->view_n = o;
	q->n_new = 0;
	q->view_holes = 0;
	/* The first polls place every entry through view_new (800 KB at 100,000 containers);
	 * afterwards a turn adds a few. */
	if (q->cap_new > 4096) {
		free(q->view_new);
		q->view_new = NULL;
		q->cap_new = 0;
	}
}

/* After an allocation failure: every entry waits to be placed again. */
static int
queue_view_reset(struct queue *q)
{
	q->n_new = 0;
	q->view_n = 0;
	q->view_holes = 0;
	q->view_lost = false;
	if (queue_view_grow(&q->view_new, &q->cap_new, q->map.n + 1) != 0)
		return -1;
	for (size_t s = 0; s < q->map.cap; s++) {
		struct queue_ent *e = q->map.slot[s];

		if (e != NULL) {
			q->view_new[q->n_new++] = e;
			e->view_pos = 0;
			e->view_new = (uint32_t)q->n_new;
		}
	}
	return 0;
}

struct queue_ent *const *
queue_view(struct queue *q, size_t *n)
{
	size_t cap_tmp = q->view_cap;

	*n = 0;
	if (q->view_holes == 0 && q->n_new == 0 && q->view_n == q->map.n && !q->view_lost) {
		*n = q->view_n;
		return q->view;
	}
	if ((q->view_lost || q->view_n - q->view_holes + q->n_new != q->map.n) &&
	    queue_view_reset(q) != 0)
		return NULL;
	if (queue_view_grow(&q->view, &q->view_cap, q->map.n + 1) != 0 ||
	    queue_view_grow(&q->view_tmp, &cap_tmp, q->view_cap) != 0)
		return NULL;
	if (q->n_new > 1)
		qsort(q->view_new, q->n_new, sizeof(*q->view_new), queue_view_qsort_cmp);
	queue_view_merge(q);
	*n = q->view_n;
	return q->view;
}
