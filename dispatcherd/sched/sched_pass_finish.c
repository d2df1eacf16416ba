/*
 * sched_pass_finish.c - 4.2 steps 6-9 and 4.7: queue positions for the rest, unlocks of what
 * cannot run, shutdown of idle instances at quota, metrics.
 */
#include "sched_pass.h"

/* Step 7: AT_QUOTA / CLUSTER_CAPACITY positions, after the AT_CAPACITY ones. */
static void
sched_pass_positions(struct sched_pass *x)
{
	const struct sched_input *in = x->in;
	uint8_t code = sched_pass_at_quota(x) ? SCHED_ST_AT_QUOTA : SCHED_ST_CLUSTER_CAPACITY;

	for (size_t i = 0; i < in->n_ctrs; i++) {
		uint32_t ci = x->keys[i].idx;

		/* The statuses are written in queue order, which is random in memory. */
		if (i + 16 < in->n_ctrs)
			__builtin_prefetch(&x->out->status[x->keys[i + 16].idx], 1);
		if ((x->keys[i].flags & SCHED_OF_WAITING) &&
		    x->out->status[ci].code == SCHED_ST_NONE)
			x->out->status[ci] = (struct sched_status){ .code = code, .n = ++x->qpos };
	}
}

/* Never unlock what runs, or what still has a runner (weakness 2's lesson applies here too). */
static int
sched_unlock_one(struct sched_pass *x, uint32_t ci)
{
	const struct sched_ctr *c = &x->in->ctrs[ci];

	if (c->state != SCHED_LOCKED || c->in_running || c->runner_present)
		return 0;
	return sched_result_push_slot(x->out, x->in, ci, SCHED_D_UNLOCK, SCHED_R_OVERQUOTA);
}

/*
 * Step 8. fix (quirk of 12.4 / weakness 10): with instances present the head of the overquota
 * list always stays locked, also when it is the only entry; with none it is unlocked so that
 * it eventually exhausts its attempts instead of starving the others.
 */
static int
sched_pass_unlocks(struct sched_pass *x)
{
	size_t from = x->overquota_from;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < x->n_oms; i++)
		rc = sched_unlock_one(x, x->s->oms[i]);
	if (from < x->in->n_ctrs && x->n_workers > 0)
		from++;
	for (size_t i = from; rc == 0 && i < x->in->n_ctrs; i++)
		if (x->keys[i].flags & SCHED_OF_UNLOCKABLE)
			rc = sched_unlock_one(x, x->keys[i].idx);
	return rc;
}

/* Step 9: free quota held by booting/idle instances nothing is placed on (the pool honours
 * exactly these: not on hold, not unknown, not running). */
static int
sched_pass_shutdowns(struct sched_pass *x)
{
	const struct sched_input *in = x->in;
	int rc = 0;

	for (size_t w = 0; rc == 0 && w < in->n_workers; w++) {
		const struct sched_worker *wk = &in->workers[w];

		if (wk->id == NULL || wk->id[0] == '\0' || wk->idle == SCHED_IDLE_HOLD ||
		    (wk->state != SCHED_W_BOOTING && wk->state != SCHED_W_IDLE) || x->s->wl[w] != 0)
			continue;
		rc = sched_result_push(x->out, (struct sched_decision){ .kind = SCHED_D_SHUTDOWN,
									.ctr = -1,
									.worker = (int32_t)w });
	}
	return rc;
}

int
sched_pass_finish(struct sched_pass *x)
{
	struct sched_result *out = x->out;
	size_t overquota = x->in->n_ctrs - x->overquota_from;
	int rc;

	out->not_allocated_over_quota = (int64_t)(overquota + x->n_oms);
	out->max_concurrent_containers = x->s->quota.max_containers;
	out->last_503 = x->s->quota.last_503;
	out->longest_wait = x->sums.longest_wait;
	out->hourly_cap = x->s->hourly_cap;
	sched_pass_positions(x);
	if (overquota + x->n_oms > 0 && (rc = sched_pass_unlocks(x)) < 0)
		return rc;
	if (overquota > 0 && (rc = sched_pass_shutdowns(x)) < 0)
		return rc;
	/* Over the budget cap: shed idle instances (step 9 above already shut every idle one
	 * nothing was placed on, so only when it did not run). */
	if (overquota == 0 && (rc = sched_budget_shutdowns(x)) < 0)
		return rc;
	out->hourly_spend = x->spend;
	return 0;
}
