/* sched_result.c - the decision list a pass or a sync hands to the dispatcher. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

void
sched_result_init(struct sched_result *r)
{
	memset(r, 0, sizeof(*r));
}

void
sched_result_clear(struct sched_result *r)
{
	r->n = 0;
	r->n_status = 0;
	r->rearm_soon = false;
	r->allocated_not_started = 0;
	r->not_allocated_over_quota = 0;
	r->max_concurrent_containers = 0;
	r->longest_wait = 0;
	r->last_503 = 0;
	r->hourly_spend = r->hourly_cap = 0;
}

void
sched_result_free(struct sched_result *r)
{
	free(r->d);
	free(r->status);
	sched_result_init(r);
}

int
sched_result_push(struct sched_result *r, struct sched_decision d)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct sched_decision *v = realloc(r->d, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		r->d = v;
		r->cap = cap;
	}
	r->d[r->n++] = d;
	return 0;
}

/* A decision about container ci that needs its 4.5 slot: skipped (and a quick re-run asked
 * for) when another operation holds it. */
int
sched_result_push_slot(struct sched_result *r, const struct sched_input *in, size_t ci,
		       uint8_t kind, uint8_t reason)
{
	if (in->ctrs[ci].op_in_flight) {
		r->rearm_soon = true;
		return 0;
	}
	return sched_result_push(
		r, (struct sched_decision){
			   .kind = kind, .reason = reason, .ctr = (int32_t)ci, .worker = -1 });
}
