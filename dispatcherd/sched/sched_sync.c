/*
 * sched_sync.c - 4.4: reconcile the queue with the pool's running set; and 2.9's unlock list.
 *
 * Every action that needs the container's 4.5 slot is skipped while another operation holds it
 * (the dispatcher is then asked to run again soon, out->rearm_soon).
 */
#include "sched_internal.h"

static int
sched_sync_running(const struct sched_input *in, struct sched_result *out, size_t i)
{
	const struct sched_ctr *c = &in->ctrs[i];

	/* Not in any worker's list: only once a queue poll that started after the pool found it
	 * so still says Running. A cache made stale by failing or slow list calls would cancel a
	 * container its crunch-run had just finished, and the API server accepts Complete ->
	 * Cancelled (found by the fault suite, docs/RELIABILITY.md). */
	sched_time since = sched_memo_of(in, c)->not_running_since;

	if (!c->in_running)
		return in->any_unknown_worker || (since != 0 && in->queue_threshold <= since)
			       ? 0
			       : sched_result_push_slot(out, in, i, SCHED_D_CANCEL,
							SCHED_R_NOT_RUNNING);
	if (c->exited && in->queue_threshold > c->exit_time)
		return sched_result_push_slot(out, in, i, SCHED_D_CANCEL,
					      SCHED_R_RUNNING_AFTER_EXIT);
	if (c->priority == 0)
		return sched_result_push_slot(out, in, i, SCHED_D_KILL, SCHED_R_PRIORITY_ZERO);
	return 0;
}

static int
sched_sync_locked(const struct sched_input *in, struct sched_result *out, size_t i)
{
	const struct sched_ctr *c = &in->ctrs[i];

	if (c->in_running) {
		if (c->exited && in->queue_threshold > c->exit_time)
			return sched_result_push_slot(out, in, i, SCHED_D_UNLOCK,
						      SCHED_R_CRUNCH_RUN_EXITED);
		if (!c->exited && c->priority == 0)
			return sched_result_push_slot(out, in, i, SCHED_D_KILL,
						      SCHED_R_PRIORITY_ZERO);
		return 0;
	}
	if (c->priority == 0)
		return sched_result_push_slot(out, in, i, SCHED_D_UNLOCK, SCHED_R_PRIORITY_ZERO);
	return 0;
}

static int
sched_forget(struct sched_result *out, size_t i, uint8_t reason)
{
	return sched_result_push(out, (struct sched_decision){ .kind = SCHED_D_FORGET,
							       .reason = reason,
							       .ctr = (int32_t)i,
							       .worker = -1 });
}

static int
sched_sync_one(const struct sched_input *in, struct sched_result *out, size_t i)
{
	const struct sched_ctr *c = &in->ctrs[i];

	switch ((enum sched_cstate)c->state) {
	case SCHED_RUNNING:
		return sched_sync_running(in, out, i);
	case SCHED_LOCKED:
		return sched_sync_locked(in, out, i);
	case SCHED_COMPLETE:
	case SCHED_CANCELLED:
		if (c->in_running)
			return sched_result_push_slot(out, in, i, SCHED_D_KILL,
						      c->state == SCHED_COMPLETE
							      ? SCHED_R_STATE_COMPLETE
							      : SCHED_R_STATE_CANCELLED);
		return sched_forget(out, i, SCHED_R_FINISHED);
	case SCHED_QUEUED:
		if (c->in_running)
			return sched_result_push_slot(out, in, i, SCHED_D_KILL,
						      SCHED_R_QUEUED_BUT_RUNNING);
		return c->priority == 0 ? sched_forget(out, i, SCHED_R_ON_HOLD) : 0;
	default:
		return sched_result_push(out, (struct sched_decision){ .kind = SCHED_D_BUG_STATE,
								       .ctr = (int32_t)i,
								       .worker = -1 });
	}
}

int
sched_sync(const struct sched_input *in, struct sched_result *out)
{
	int rc = 0;

	sched_result_clear(out);
	for (size_t i = 0; rc == 0 && i < in->n_ctrs; i++)
		rc = sched_sync_one(in, out, i);
	for (size_t i = 0; rc == 0 && i < in->n_running_uncached; i++)
		rc = sched_result_push(out,
				       (struct sched_decision){ .kind = SCHED_D_KILL,
								.reason = SCHED_R_NOT_IN_QUEUE,
								.ctr = -1,
								.worker = -1,
								.uuid = in->running_uncached[i] });
	return rc;
}

int
sched_stale_locks(const struct sched_input *in, struct sched_result *out)
{
	int rc = 0;

	sched_result_clear(out);
	for (size_t i = 0; rc == 0 && i < in->n_ctrs; i++) {
		const struct sched_ctr *c = &in->ctrs[i];

		if (c->state == SCHED_LOCKED && !c->in_running && !c->runner_present)
			rc = sched_result_push_slot(out, in, i, SCHED_D_UNLOCK, SCHED_R_STALE_LOCK);
	}
	return rc;
}
