/* queue_ent.c - creating, removing and marking entries. */
#include "queue_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 100,000 of them at scale: a field added in a hole is free, anything more costs a 16-byte step
 * of the malloc chunk for each (queue.h). */
_Static_assert(sizeof(struct queue_ent) <= 152, "struct queue_ent grew past a 160-byte chunk");

struct queue_ent *
queue_ent_new(struct queue *q, const char *uuid)
{
	struct queue_ent *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	snprintf(e->uuid, sizeof(e->uuid), "%s", uuid);
	e->choice = &queue_no_choice;
	e->first_seen_ms = q->poll.started_wall_ms ? q->poll.started_wall_ms : queue_wall_ms();
	if (queue_map_put(&q->map, e) != 0) {
		free(e);
		return NULL;
	}
	queue_view_add(q, e);
	return e;
}

void
queue_ent_remove(struct queue *q, struct queue_ent *e)
{
	queue_mounts_unlink(q, e);
	if (e->fit == QFIT_NONE && q->unsatisfiable > 0)
		q->unsatisfiable--;
	queue_map_del(&q->map, e);
	queue_view_drop(q, e);
	e->mq_next = q->removed;
	q->removed = e;
}

void
queue_ent_free(struct queue_ent *e)
{
	queue_choice_clear(e);
	free(e->fit_error);
	free(e->pending);
	queue_rec_free(e);
	free(e);
}

/* The entry cannot run anywhere: keep it, with an empty candidate list and the reason
 * (weakness 1: the scheduler decides, nothing indexes a first candidate). */
void
queue_ent_set_none(struct queue *q, struct queue_ent *e, const char *why)
{
	char *t = strdup(why);

	queue_choice_clear(e);
	free(e->pending);
	e->pending = NULL;
	queue_mounts_unlink(q, e);
	if (t != NULL || e->fit_error == NULL) {
		free(e->fit_error);
		e->fit_error = t;
	}
	if (e->fit != QFIT_NONE)
		q->unsatisfiable++;
	e->fit = QFIT_NONE;
}
