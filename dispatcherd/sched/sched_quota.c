/*
 * sched_quota.c - the dynamic limits of spec 4.3, driven by an explicit clock.
 *
 * fix (weakness 5): the reference keeps one number, maxContainers, that counts containers but
 * is clamped to the number of *instances* on quota errors, so packed instances are throttled.
 * Here the two are separate: max_containers (containers) only reacts to the API server's 503s;
 * instance_limit (instances) carries the learnt quota and InitialQuotaEstimate and limits
 * instance creation, never how many containers run on existing instances.
 */
#include "scheduler.h"

void
sched_quota_init(struct sched_quota *q, const struct cfg_cluster *cl)
{
	int64_t iqe = cl->containers.cloudvms.initial_quota_estimate;

	q->max_containers = 0;
	q->last_503 = 0;
	q->last_backoff = 0;
	/* fix (finding 5): the reference's own starting limit, where a back-off stops. */
	q->backoff_floor = iqe > 0 ? iqe : cl->containers.cloudvms.max_instances;
	if (q->backoff_floor < 1)
		q->backoff_floor = 1;
	q->instances_within_quota = 0;
	q->instance_limit = iqe > 0 ? iqe : 0;
}

static int64_t
sched_max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/*
 * 4.3 steps 1-2: back off below the current load after a 503, then ratchet up ~10%.
 *
 * fix (the fault suite, docs/RELIABILITY.md finding 5): the reference backs off on every new
 * 503 and ratchets only after a minute with none. Under a steady trickle of 503s (a busy
 * controller answers some calls so, from any of the dispatcher's calls) no minute is ever
 * quiet, and each 503 sets the limit to |R|-1 of a running set that only shrinks, since
 * nothing starts while the limit is below |R|: the limit falls to 1 (at once when the first
 * 503 comes while little runs) and the cluster runs one container at a time for as long as
 * the trickle lasts. Here a 503 backs off as in the reference, and then the limit holds for a
 * minute (the reference's quiet period, measured from that 503) and ratchets for a minute
 * whatever 503s come meanwhile; they only move last_503 (the metric). The next 503 after those
 * two minutes backs off again, and so does one after a quiet minute, as in the reference: a
 * 503 that is not part of a trickle is handled as by the reference. And a back-off stops at
 * the limit the reference starts with (InitialQuotaEstimate, else MaxInstances), not at 1: a
 * 503 that comes while fewer containers than that run (after a restart, after a quota error
 * with no instance) says little about the load this dispatcher adds, and backing off to
 * |R|-1 = 0 then ran the cluster one container at a time for the next minutes.
 */
static void
sched_quota_503(struct sched_quota *q, sched_time now, sched_time api_last_503, int64_t running)
{
	if (api_last_503 > q->last_503) {
		bool after_quiet = api_last_503 - q->last_503 > SCHED_503_QUIET;

		q->last_503 = api_last_503;
		if (q->last_backoff == 0 || after_quiet ||
		    api_last_503 - q->last_backoff > 2 * SCHED_503_QUIET) {
			q->last_backoff = api_last_503;
			q->max_containers = sched_max64(q->backoff_floor, running - 1);
			return;
		}
	}
	if (q->max_containers > 0 &&
	    (q->last_backoff == 0 || now - q->last_backoff > SCHED_503_QUIET))
		q->max_containers = sched_max64(q->max_containers, running * 11 / 10 + 1);
}

/* 4.3 steps 4-5, in instances: remember how many instances the account held, probe one more. */
static void
sched_quota_instances(struct sched_quota *q, int64_t workers, bool at_quota)
{
	if (q->instances_within_quota > 0 && q->instances_within_quota < workers)
		q->instances_within_quota = workers;
	if (at_quota) {
		q->instances_within_quota = workers;
		q->instance_limit = sched_max64(workers, 1);
	} else if (q->instances_within_quota > 0) {
		q->instance_limit = q->instances_within_quota + 1;
	} else if (q->instance_limit > 0) {
		/* An estimate (or a quota hold seen with no instance): grow as instances appear. */
		q->instance_limit = sched_max64(q->instance_limit, workers * 11 / 10 + 1);
	}
}

void
sched_quota_update(struct sched_quota *q, sched_time now, sched_time api_last_503, int64_t running,
		   int64_t workers, bool at_quota)
{
	sched_quota_503(q, now, api_last_503, running);
	sched_quota_instances(q, workers, at_quota);
}
