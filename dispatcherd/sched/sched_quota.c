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
	q->instances_within_quota = 0;
	q->instance_limit = iqe > 0 ? iqe : 0;
}

static int64_t
sched_max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* 4.3 steps 1-2: back off below the current load after a 503, then ratchet up ~10%. */
static void
sched_quota_503(struct sched_quota *q, sched_time now, sched_time api_last_503, int64_t running)
{
	if (api_last_503 > q->last_503) {
		q->last_503 = api_last_503;
		q->max_containers = sched_max64(1, running - 1);
	} else if (q->max_containers > 0 &&
		   (q->last_503 == 0 || now - q->last_503 > SCHED_503_QUIET)) {
		q->max_containers = sched_max64(q->max_containers, running * 11 / 10 + 1);
	}
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
