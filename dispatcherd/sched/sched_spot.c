/*
 * sched_spot.c - replacements for workers with a spot interruption notice (an addition,
 * -spot-interruption-notices; docs/SCHEDULER.md "Spot interruption notices").
 *
 * The pool drains a worker once its notice comes (no new container goes there). What runs on
 * it is expected back in the queue when the cloud reclaims the instance (a Running container
 * is cancelled and retried by the API server as a new container; a Locked one is requeued),
 * with the same needs. So, after the queue's own placements, each runner of a noticed worker
 * is placed, as a reservation for this pass only, on an instance of the noticed worker's type
 * that still has room for what it was charged (idle, running, booting or a create pending,
 * never another noticed one); a runner that fits nowhere asks for a new instance of that type,
 * on which the next such runners pack. The replacement therefore exists before the noticed
 * worker disappears, and no second one is asked for while the first has room. The queue
 * comes first: nothing is reserved or created when the pass is over quota, and creates obey
 * the same limits as the queue's (MaxInstances, the learnt quota, capacity holds, create
 * throttling, the budget cap).
 */
#include "sched_pass.h"

/* One runner of the noticed worker w. 0 or -ENOMEM. */
static int
sched_spot_one(struct sched_pass *x, size_t w, const struct sched_wrun *r)
{
	const struct sched_input *in = x->in;
	uint32_t t = in->workers[w].type;
	/* An adopted runner of a container we do not know filled its instance (sched_pass_index). */
	struct res_vec need = r->need_known ? r->need
					    : itypes_capacity(&x->s->cl->instance_types[t]);
	int32_t j = sched_tree_best(&x->s->tree[t], &need);
	int rc;

	if (j >= 0)
		return sched_pass_place(x, t, (uint32_t)j, &need);
	if (sched_pass_at_quota(x) || !sched_create_allowed(x) ||
	    (in->type_at_capacity != NULL && in->type_at_capacity[t]) || !sched_budget_allows(x, t))
		return 0;
	rc = sched_result_push(x->out, (struct sched_decision){ .kind = SCHED_D_CREATE,
								.ctr = -1,
								.worker = (int32_t)w,
								.type = t });
	if (rc == 0)
		rc = sched_pass_placeholder(x, t, &need);
	if (rc < 0)
		return rc;
	x->n_pending++;
	sched_budget_charge(x, t);
	return 0;
}

int
sched_spot_replace(struct sched_pass *x)
{
	const struct sched_input *in = x->in;
	int rc = 0;

	for (size_t w = 0; rc == 0 && w < in->n_workers; w++) {
		const struct sched_worker *wk = &in->workers[w];

		if (!wk->spot_notice || wk->state == SCHED_W_SHUTDOWN)
			continue;
		for (uint32_t i = 0; rc == 0 && i < wk->n_run; i++)
			rc = sched_spot_one(x, w, &wk->run[i]);
	}
	return rc;
}
