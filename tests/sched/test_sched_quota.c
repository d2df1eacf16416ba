/* test_sched_quota.c - 4.3 with a fake clock: 503 back-off and ratchet, quota learning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define S SCHED_SECOND

static void
initial_estimate(void **unused)
{
	struct cfg_cluster cl = { 0 };
	struct sched_quota q;

	(void)unused;
	sched_quota_init(&q, &cl);
	assert_int_equal(q.max_containers, 0);
	assert_int_equal(q.instance_limit, 0);
	cl.containers.cloudvms.initial_quota_estimate = 5;
	cl.containers.cloudvms.max_instances = 64;
	sched_quota_init(&q, &cl);
	assert_int_equal(q.max_containers, 0); /* fix: MaxInstances is not a container count */
	assert_int_equal(q.instance_limit, 5);
	/* The estimate grows ~10% with the instances that exist. */
	sched_quota_update(&q, 10 * S, 0, 0, 10, false);
	assert_int_equal(q.instance_limit, 12);
	sched_quota_update(&q, 11 * S, 0, 0, 3, false);
	assert_int_equal(q.instance_limit, 12);
}

static void
backoff_503(void **unused)
{
	struct cfg_cluster cl = { 0 };
	struct sched_quota q;
	sched_time t = 1000 * S, e503 = t - S;

	(void)unused;
	sched_quota_init(&q, &cl);
	sched_quota_update(&q, t, 0, 40, 10, false);
	assert_int_equal(q.max_containers, 0); /* unlimited until a 503 */
	sched_quota_update(&q, t, e503, 40, 10, false);
	assert_int_equal(q.max_containers, 39);
	assert_int_equal(q.last_503, e503);
	/* Quiet period: no ratchet for a minute, even as more run. */
	sched_quota_update(&q, t + 30 * S, e503, 60, 10, false);
	assert_int_equal(q.max_containers, 39);
	sched_quota_update(&q, e503 + 60 * S, e503, 60, 10, false);
	assert_int_equal(q.max_containers, 39);
	sched_quota_update(&q, e503 + 61 * S, e503, 60, 10, false);
	assert_int_equal(q.max_containers, 67);
	/* Never lowered by the ratchet. */
	sched_quota_update(&q, e503 + 62 * S, e503, 2, 10, false);
	assert_int_equal(q.max_containers, 67);
	/* A new 503 backs off again; at least 1. */
	sched_quota_update(&q, t + 100 * S, t + 99 * S, 0, 10, false);
	assert_int_equal(q.max_containers, 1);
	assert_int_equal(q.instance_limit, 0); /* instances untouched by 503s */
}

/*
 * The fault suite's finding 5 (docs/RELIABILITY.md): a steady trickle of 503s (one every 5 s)
 * while containers finish. The reference backs off on each one to |R|-1 of a running set that
 * only shrinks (nothing starts below the limit) and ratchets only after a minute with none, so
 * the limit fell to 1 and stayed there. Here a back-off holds for a minute and then the limit
 * ratchets for a minute, whatever 503s come meanwhile; the next 503 backs off again. Fails
 * before the fix.
 */
static void
backoff_503_trickle(void **unused)
{
	struct cfg_cluster cl = { 0 };
	struct sched_quota q;
	sched_time t0 = 1000 * S, t;
	int64_t running = 40;

	(void)unused;
	sched_quota_init(&q, &cl);
	sched_quota_update(&q, t0, t0 - S, running, 10, false);
	assert_int_equal(q.max_containers, 39);
	for (t = t0 + 5 * S; t <= t0 + 55 * S; t += 5 * S) {
		running--;
		sched_quota_update(&q, t, t - S, running, 10, false);
		assert_int_equal(q.max_containers, 39); /* held: not |R|-1 again */
		assert_int_equal(q.last_503, t - S);	/* the metric still follows every 503 */
	}
	/* A minute after the 503 that backed off: ratchet up as containers start again, 503s
	 * or not, for a minute. */
	for (running = 39; t <= t0 + 115 * S; t += 5 * S) {
		sched_quota_update(&q, t, t - S, running, 10, false);
		assert_int_equal(q.max_containers, running * 11 / 10 + 1);
		running = q.max_containers;
	}
	/* Two minutes after it, the next 503 backs off again. */
	sched_quota_update(&q, t0 + 125 * S, t0 + 124 * S, 90, 10, false);
	assert_int_equal(q.max_containers, 89);
}

static void
quota_learning(void **unused)
{
	struct cfg_cluster cl = { 0 };
	struct sched_quota q;

	(void)unused;
	sched_quota_init(&q, &cl);
	sched_quota_update(&q, S, 0, 30, 3, true);
	assert_int_equal(q.instances_within_quota, 3);
	assert_int_equal(q.instance_limit, 3);
	assert_int_equal(q.max_containers, 0); /* fix: containers on those 3 still pack */
	sched_quota_update(&q, 2 * S, 0, 30, 3, false);
	assert_int_equal(q.instance_limit, 4); /* probe one instance at a time */
	sched_quota_update(&q, 3 * S, 0, 30, 4, false);
	assert_int_equal(q.instances_within_quota, 4);
	assert_int_equal(q.instance_limit, 5);
	sched_quota_update(&q, 4 * S, 0, 0, 0, true);
	assert_int_equal(q.instance_limit, 1);
}

/* The pass feeds the learnt limit: no create beyond it, but placement on existing instances. */
static void
pass_uses_instance_limit(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);

	(void)unused;
	fx_worker(f, "i-1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_worker(f, "i-2", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	sched_quota_state(f->s)->instances_within_quota = 2;
	for (int p = 1; p <= 5; p++)
		fx_ctr(f, NULL, SCHED_LOCKED, p, 1, 128 * FX_MiB);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_START), 2);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 1); /* limit 3 = 2 + 1 */
	assert_int_equal(fx_count(f, SCHED_D_UNLOCK), 0);
	fx_free(f);
}

/* The fault suite's finding 5, with little running: a 503 backs off to |R|-1 but not below
 * the limit the reference starts with (MaxInstances here), where the reference went to 1.
 * Fails before the fix. */
static void
backoff_503_floor(void **unused)
{
	struct cfg_cluster cl = { 0 };
	struct sched_quota q;

	(void)unused;
	cl.containers.cloudvms.max_instances = 8;
	sched_quota_init(&q, &cl);
	sched_quota_update(&q, 100 * S, 99 * S, 0, 0, false);
	assert_int_equal(q.max_containers, 8);
	sched_quota_update(&q, 300 * S, 299 * S, 30, 8, false);
	assert_int_equal(q.max_containers, 29);
	cl.containers.cloudvms.initial_quota_estimate = 3;
	sched_quota_init(&q, &cl);
	sched_quota_update(&q, 100 * S, 99 * S, 1, 1, false);
	assert_int_equal(q.max_containers, 3);
}

/*
 * The fault suite's finding 5, after a restart: a 503 while a worker is not probed yet set the
 * limit to |R|-1 of the containers seen so far (none on the unknown worker), 1 here with three
 * running there. It is acted on once every worker is known. Fails before the fix.
 */
static void
backoff_503_waits_for_unknown_workers(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int w1 = fx_worker(f, "i-1", 4, SCHED_W_RUNNING, SCHED_IDLE_RUN);
	int w2 = fx_worker(f, "i-2", 4, SCHED_W_UNKNOWN, SCHED_IDLE_RUN);

	(void)unused;
	fx_run_on(f, fx_ctr(f, NULL, SCHED_RUNNING, 9, 1, 128 * FX_MiB), w1, false);
	fx_run_on(f, fx_ctr(f, NULL, SCHED_RUNNING, 9, 1, 128 * FX_MiB), w1, false);
	f->in.any_unknown_worker = true;
	f->in.api_last_503 = f->in.now - S;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(sched_quota_state(f->s)->max_containers, 0);
	/* Probed: three more run there. */
	f->w[w2].state = SCHED_W_RUNNING;
	for (int i = 0; i < 3; i++)
		fx_run_on(f, fx_ctr(f, NULL, SCHED_RUNNING, 9, 1, 128 * FX_MiB), w2, false);
	f->in.any_unknown_worker = false;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(sched_quota_state(f->s)->max_containers, 4);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(initial_estimate),
		cmocka_unit_test(backoff_503),
		cmocka_unit_test(backoff_503_trickle),
		cmocka_unit_test(backoff_503_floor),
		cmocka_unit_test(backoff_503_waits_for_unknown_workers),
		cmocka_unit_test(quota_learning),
		cmocka_unit_test(pass_uses_instance_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
