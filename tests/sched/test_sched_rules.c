/* test_sched_rules.c - single rules of 4.2, 4.5 and 4.6: order, statuses byte for byte,
 * slots, create limits, instance preference. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define ALL_TYPES 0x1fffeu
static const int64_t ram = 128 * FX_MiB;

struct status_case {
	struct sched_status st;
	enum sched_cstate state;
	const char *want;
};

static void
status_strings(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.5, 10);
	int c = fx_ctr(f, NULL, SCHED_QUEUED, 1, 2, ram); /* candidates type2, type3 */
	const struct status_case cases[] = {
		{ { SCHED_ST_NONE, 0, 0 }, SCHED_QUEUED, "" },
		{ { SCHED_ST_PREPARING, 0, 0 },
		  SCHED_LOCKED,
		  "Container is allocated to an instance and preparing to run." },
		{ { SCHED_ST_PRIORITY_ZERO, 0, 0 },
		  SCHED_LOCKED,
		  "This container will not be scheduled to run because its priority is 0 and state "
		  "is Locked." },
		{ { SCHED_ST_PRIORITY_ZERO, 0, 0 },
		  SCHED_QUEUED,
		  "This container will not be scheduled to run because its priority is 0 and state "
		  "is Queued." },
		{ { SCHED_ST_SUPERVISOR_LIMIT, 7, 0 },
		  SCHED_QUEUED,
		  "Waiting in workflow queue at position 7.  Cluster is at capacity and cannot "
		  "start "
		  "any new workflows right now." },
		{ { SCHED_ST_WAITING_PREVIOUS, 0, 0 },
		  SCHED_LOCKED,
		  "Waiting for previous container attempt to exit." },
		{ { SCHED_ST_WAITING_NEW, 0, f->c[c].types[0] },
		  SCHED_LOCKED,
		  "Waiting for a type2 instance to boot and be ready to accept work." },
		{ { SCHED_ST_AT_CAPACITY, 3, 0 },
		  SCHED_LOCKED,
		  "Waiting in queue at position 3.  Cluster is at capacity for all eligible "
		  "instance "
		  "types (type2, type3) and cannot start a new instance right now." },
		{ { SCHED_ST_AT_QUOTA, 12, 0 },
		  SCHED_QUEUED,
		  "Waiting in queue at position 12.  Cluster is at cloud account limits and cannot "
		  "start any new instances right now." },
		{ { SCHED_ST_CLUSTER_CAPACITY, 100000, 0 },
		  SCHED_QUEUED,
		  "Waiting in queue at position 100000.  Cluster is at capacity and cannot start "
		  "any "
		  "new instances right now." },
	};
	char buf[SCHED_STATUS_MAX], tiny[8];

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->c[c].state = cases[i].state;
		assert_int_equal(
			sched_status_format(f->cl, &f->c[c], &cases[i].st, buf, sizeof(buf)),
			(int)strlen(cases[i].want));
		assert_string_equal(buf, cases[i].want);
	}
	assert_int_equal(sched_status_format(f->cl, &f->c[c], &cases[7].st, tiny, sizeof(tiny)),
			 -ENOSPC);
	assert_string_equal(tiny, "");
	fx_free(f);
}

/* 4.2 step 2, seen through the positions of step 7 (everything at quota, nothing placed). */
static void
queue_order(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);

	(void)unused;
	f->in.quota_hold = true;
	fx_ctr(f, "q-high", SCHED_QUEUED, 9, 1, ram);
	fx_ctr(f, "l-low", SCHED_LOCKED, 1, 1, ram);
	fx_ctr(f, "q-mid-old", SCHED_QUEUED, 5, 1, ram);
	fx_ctr(f, "q-mid-new", SCHED_QUEUED, 5, 1, ram);
	f->c[fx_ctr_index(f, "q-mid-old")].first_seen = -5;
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_status(f, "l-low"),
			    "Waiting in queue at position 1.  Cluster is at "
			    "cloud account limits and cannot start any new instances right now.");
	assert_int_equal(f->r.status[fx_ctr_index(f, "q-high")].n, 2);
	assert_int_equal(f->r.status[fx_ctr_index(f, "q-mid-old")].n, 3);
	assert_int_equal(f->r.status[fx_ctr_index(f, "q-mid-new")].n, 4);
	/* The next pass starts from this order; a changed priority must still re-sort. */
	f->c[fx_ctr_index(f, "q-mid-new")].priority = 10;
	f->c[fx_ctr_index(f, "l-low")].state = SCHED_QUEUED;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(f->r.status[fx_ctr_index(f, "q-mid-new")].n, 1);
	assert_int_equal(f->r.status[fx_ctr_index(f, "q-high")].n, 2);
	assert_int_equal(f->r.status[fx_ctr_index(f, "q-mid-old")].n, 3);
	assert_int_equal(f->r.status[fx_ctr_index(f, "l-low")].n, 4);
	fx_free(f);
}

static void
priority_zero_and_running(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);
	int w = fx_worker(f, "i-1", 4, SCHED_W_RUNNING, SCHED_IDLE_RUN);

	(void)unused;
	fx_ctr(f, "zero", SCHED_LOCKED, 0, 1, ram);
	fx_run_on(f, fx_ctr(f, "starting", SCHED_LOCKED, 5, 1, ram), w, true);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_status(f, "zero"), "This container will not be scheduled to run "
						  "because its priority is 0 and state is Locked.");
	assert_string_equal(fx_status(f, "starting"),
			    "Container is allocated to an instance and preparing to run.");
	assert_int_equal(f->r.n, 0);
	fx_free(f);
}

/* 4.5: a busy slot means no new operation, and a quick re-run. */
static void
busy_slot(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);
	int c = fx_ctr(f, NULL, SCHED_QUEUED, 1, 1, ram);

	(void)unused;
	f->c[c].op_in_flight = true;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_LOCK), 0);
	assert_true(f->r.rearm_soon);
	f->c[c].op_in_flight = false;
	assert_int_equal(fx_pass(f), 0);
	assert_non_null(fx_find(f, SCHED_D_LOCK, "ctr-1"));
	assert_false(f->r.rearm_soon);
	fx_free(f);
}

/* A Locked container with an operation in flight (the driver holds it back while a worker
 * is unprobed after a restart) is not started on an idle worker, nor given a new instance;
 * once the operation is over it starts. The fault suite's restart double-run test found the
 * start path ignoring the hold. */
static void
locked_held_not_started(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);
	int c;

	(void)unused;
	fx_worker(f, "i-1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	c = fx_ctr(f, "held", SCHED_LOCKED, 2, 1, ram);
	f->c[c].op_in_flight = true;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_START), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_int_equal(fx_count(f, SCHED_D_UNLOCK), 0);
	f->c[c].op_in_flight = false;
	assert_int_equal(fx_pass(f), 0);
	assert_non_null(fx_find(f, SCHED_D_START, "held"));
	fx_free(f);
}

static void
previous_attempt(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);

	(void)unused;
	fx_worker(f, "i-1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	f->c[fx_ctr(f, "locked", SCHED_LOCKED, 2, 1, ram)].runner_present = true;
	f->c[fx_ctr(f, "queued", SCHED_QUEUED, 1, 1, ram)].runner_present = true;
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_status(f, "locked"),
			    "Waiting for previous container attempt to exit.");
	assert_int_equal(fx_find(f, SCHED_D_KILL, "locked")->reason, SCHED_R_PREVIOUS_ATTEMPT);
	assert_non_null(fx_find(f, SCHED_D_KILL, "queued"));
	assert_int_equal(fx_count(f, SCHED_D_LOCK) + fx_count(f, SCHED_D_START), 0);
	fx_free(f);
}

struct create_case {
	const char *name;
	int64_t max_create_ops;
	int pending;
	bool throttled, unavailable;
	size_t creates;
};

static void
create_limits(void **unused)
{
	const struct create_case cases[] = {
		{ "free", 0, 0, false, false, 4 },
		{ "MaxConcurrentInstanceCreateOps 2", 2, 0, false, false, 2 },
		{ "MaxConcurrentInstanceCreateOps 2, one pending", 2, 1, false, false, 1 },
		{ "throttled", 0, 0, true, false, 0 },
		{ "runner unavailable", 0, 0, false, true, 0 },
	};

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);

		print_message("case %s\n", cases[i].name);
		f->cl->containers.cloudvms.max_concurrent_instance_create_ops =
			cases[i].max_create_ops;
		for (int p = 0; p < cases[i].pending; p++)
			fx_worker(f, "", 16, SCHED_W_BOOTING, SCHED_IDLE_RUN);
		for (int p = 1; p <= 4; p++)
			fx_ctr(f, NULL, SCHED_LOCKED, p, 1, ram);
		f->in.create_throttled = cases[i].throttled;
		f->in.runner_unavailable = cases[i].unavailable;
		assert_int_equal(fx_pass(f), 0);
		assert_int_equal(fx_count(f, SCHED_D_CREATE), cases[i].creates);
		if (cases[i].creates == 0)
			assert_string_equal(
				fx_status(f, "ctr-4"),
				"Waiting in queue at position 1.  "
				"Cluster is at capacity and cannot start any new instances "
				"right now.");
		fx_free(f);
	}
}

/* MaxInstances reached by this pass's own creates: the rest is over quota. */
static void
max_instances_within_pass(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 2);

	(void)unused;
	for (int p = 1; p <= 4; p++)
		fx_ctr(f, NULL, SCHED_LOCKED, p, 1, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 2);
	assert_int_equal(f->r.not_allocated_over_quota, 2);
	assert_int_equal(f->r.status[fx_ctr_index(f, "ctr-2")].code, SCHED_ST_AT_QUOTA);
	fx_free(f);
}

/* Preference: a ready instance over a booting one; among ready ones the busiest. */
static void
instance_preference(void **unused)
{
	struct fx_world *f = fx_new(ALL_TYPES, 2.0, 10);
	int busy;

	(void)unused;
	fx_worker(f, "i-a-boot", 4, SCHED_W_BOOTING, SCHED_IDLE_RUN);
	fx_worker(f, "i-b-idle", 4, SCHED_W_IDLE, SCHED_IDLE_RUN);
	busy = fx_worker(f, "i-c-busy", 4, SCHED_W_RUNNING, SCHED_IDLE_RUN);
	fx_worker(f, "i-d-cheap", 3, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_run_on(f, fx_ctr(f, "r", SCHED_RUNNING, 9, 1, ram), busy, false);
	fx_ctr(f, NULL, SCHED_LOCKED, 2, 2, ram); /* candidates type2..type4 */
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 2, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_find(f, SCHED_D_START, "ctr-2")->worker, busy);
	/* busy now has 1 VCPU left; the next goes to the cheapest ready idle instance. */
	assert_int_equal(fx_find(f, SCHED_D_START, "ctr-1")->worker, 3);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_strings),
		cmocka_unit_test(queue_order),
		cmocka_unit_test(priority_zero_and_running),
		cmocka_unit_test(busy_slot),
		cmocka_unit_test(locked_held_not_started),
		cmocka_unit_test(previous_attempt),
		cmocka_unit_test(create_limits),
		cmocka_unit_test(max_instances_within_pass),
		cmocka_unit_test(instance_preference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
