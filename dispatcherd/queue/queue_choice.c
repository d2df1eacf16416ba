/* queue_choice.c - an entry's instance-type choice (its need and candidate list), shared with
 * the other entries that have the same (queue_intern.c): containers of one shape have one
 * choice, so at 100,000 queued the entries hold a pointer each instead of 64 bytes and a
 * candidate list allocated each (issue 16). The scheduler's records point into the shared
 * choice (need, types): it lives as long as an entry holds it, and a removed entry holds its
 * own until queue_reap frees it. */
#include "queue_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const struct itypes_choice queue_no_choice;

struct queue_choice {
	struct queue_shared sh;
	struct itypes_choice view; /* what entries show: need, n, n_fallback, idx -> idx below */
	/* the content, compared whole: */
	struct res_vec need;
	uint32_t n, n_fallback;
	uint32_t idx[];
};

#define QCHOICE_CONTENT offsetof(struct queue_choice, need)

/* queue_choice_set copies struct res_vec field by field (its padding must stay zero to be
 * compared): a field added to it must be copied there too. */
_Static_assert(sizeof(struct res_vec) == 48 && offsetof(struct res_vec, shared_vcpu_used) == 40,
	       "struct res_vec changed: copy its new fields in queue_choice_set");

int
queue_choice_set(struct queue_intern *set, struct queue_ent *e, struct itypes_choice *c)
{
	/* the candidates, then the on-demand fallback candidates (spot fallback) */
	size_t n_idx = (size_t)c->n + c->n_fallback;
	struct queue_choice *qc = calloc(1, sizeof(*qc) + n_idx * sizeof(qc->idx[0]));
	struct queue_shared *sh;

	if (qc == NULL) {
		itypes_choice_free(c);
		return -ENOMEM;
	}
	/* field by field: the zeroed padding of res_vec is compared too */
	qc->need.vcpus = c->need.vcpus;
	qc->need.ram = c->need.ram;
	qc->need.scratch = c->need.scratch;
	qc->need.gpus = c->need.gpus;
	qc->need.gpu_vram = c->need.gpu_vram;
	qc->need.shared_vcpu_used = c->need.shared_vcpu_used;
	qc->n = c->n;
	qc->n_fallback = c->n_fallback;
	if (n_idx > 0)
		memcpy(qc->idx, c->idx, n_idx * sizeof(qc->idx[0]));
	itypes_choice_free(c);
	sh = queue_intern(set, &qc->sh, QCHOICE_CONTENT,
			  (uint32_t)(sizeof(*qc) - QCHOICE_CONTENT + n_idx * sizeof(qc->idx[0])));
	if (sh == NULL)
		return -ENOMEM;
	qc = (struct queue_choice *)sh;
	if (sh->refs == 1) /* new: its view points at its own content */
		qc->view = (struct itypes_choice){
			.need = qc->need, .n = qc->n, .n_fallback = qc->n_fallback, .idx = qc->idx
		};
	queue_choice_clear(e);
	e->choice = &qc->view;
	return 0;
}

void
queue_choice_clear(struct queue_ent *e)
{
	if (e->choice != NULL && e->choice != &queue_no_choice)
		queue_unshare(&((struct queue_choice *)((char *)e->choice -
							offsetof(struct queue_choice, view)))
				       ->sh);
	e->choice = &queue_no_choice;
}
