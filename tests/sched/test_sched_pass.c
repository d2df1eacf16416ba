/*
 * test_sched_pass.c - the reference's scheduler scenarios (spec 10.3) that concern the pass:
 * MaxInstances 10, SupervisorFraction 0.2, types type1..type16.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define ALL_TYPES 0x1fffeu
#define NO_TYPE1  0x1fffcu
#define S	  SCHED_SECOND

static const int64_t ram = 128 * FX_MiB;

static struct fx_world *
four_locked(uint32_t types, double factor)
{
	struct fx_world *f = fx_new(types, factor, 10);

	for (int p = 1; p <= 4; p++)
		fx_ctr(f, NULL, SCHED_LOCKED, p, 1, ram);
	return f;
}

static void
use_idle_workers(void **st)
{
	struct fx_world *f = four_locked(ALL_TYPES, 1.0);

	(void)st;
	fx_worker(f, "i-1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_worker(f, "i-2", 2, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_worker(f, "i-3", 2, SCHED_W_IDLE, SCHED_IDLE_RUN);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "ctr-4");
	assert_int_equal(fx_find(f, SCHED_D_START, "ctr-4")->worker, 0);
	assert_string_equal(fx_created(f), "type1 type1 type1");
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 0);
	assert_int_equal(fx_count(f, SCHED_D_UNLOCK), 0);
	fx_free(f);
}

/* Table for the packing cases of 10.3: one optional existing instance, then expectations. */
struct pack_case {
	const char *name;
	uint32_t types;
	int inst_type; /* 0: none */
	enum sched_idle idle;
	bool inst_runs_ctr4; /* the instance already runs ctr-4 */
	int64_t max_per_instance;
	const char *started, *created;
};

static const struct pack_case pack_cases[] = {
	{ "NewInstance", NO_TYPE1, 0, SCHED_IDLE_RUN, false, 0, "", "type2 type2" },
	{ "IdleInstance", NO_TYPE1, 3, SCHED_IDLE_RUN, false, 0, "ctr-4 ctr-3 ctr-2", "type2" },
	{ "IdleInstance_TooBig", NO_TYPE1, 4, SCHED_IDLE_RUN, false, 0, "", "type2 type2" },
	{ "SpareResources", NO_TYPE1, 3, SCHED_IDLE_RUN, true, 0, "ctr-3 ctr-2", "type2" },
	{ "IdleBehaviorHold", NO_TYPE1, 3, SCHED_IDLE_HOLD, true, 0, "", "type2 type2" },
	{ "DisabledInConfig", NO_TYPE1, 3, SCHED_IDLE_RUN, false, 1, "ctr-4", "type2 type2 type2" },
	{ "LimitedInConfig", 0x1ff00u, 0, SCHED_IDLE_RUN, false, 2, "", "type8 type8" },
};

static void
pack_table(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(pack_cases) / sizeof(pack_cases[0]); i++) {
		const struct pack_case *pc = &pack_cases[i];
		struct fx_world *f = four_locked(pc->types, 1.5);

		print_message("case %s\n", pc->name);
		f->cl->containers.cloudvms.max_running_containers_per_instance =
			pc->max_per_instance;
		if (pc->inst_type) {
			int w = fx_worker(f, "i-1", pc->inst_type, SCHED_W_IDLE, pc->idle);

			if (pc->inst_runs_ctr4)
				fx_run_on(f, fx_ctr_index(f, "ctr-4"), w, false);
		}
		assert_int_equal(fx_pass(f), 0);
		assert_string_equal(fx_started(f), pc->started);
		assert_string_equal(fx_created(f), pc->created);
		assert_int_equal(fx_count(f, SCHED_D_UNLOCK) + fx_count(f, SCHED_D_SHUTDOWN), 0);
		fx_free(f);
	}
}

static void
instance_state_unknown(void **st)
{
	struct fx_world *f = four_locked(NO_TYPE1, 1.5);

	(void)st;
	fx_worker(f, "i-0", 2, SCHED_W_UNKNOWN, SCHED_IDLE_RUN);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "");
	assert_string_equal(fx_created(f), "type2");
	assert_string_equal(fx_status(f, "ctr-4"),
			    "Waiting for a type2 instance to boot and be ready to accept work.");
	fx_apply(f, true);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "ctr-4 ctr-3");
	assert_int_equal(fx_find(f, SCHED_D_START, "ctr-4")->worker, 1);
	assert_string_equal(fx_created(f), "");
	assert_string_equal(fx_status(f, "ctr-2"),
			    "Waiting for a type2 instance to boot and be ready to accept work.");
	fx_free(f);
}

static void
pack_0vcpus(void **st)
{
	struct fx_world *f = fx_new(NO_TYPE1, 1.0, 10);
	const struct sched_decision *d;
	int32_t shared;

	(void)st;
	fx_ctr(f, NULL, SCHED_LOCKED, 6, 1, ram);
	for (int p = 5; p >= 2; p--)
		fx_ctr(f, NULL, SCHED_LOCKED, p, 0, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 2, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type2 type2");
	fx_apply(f, true);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_START), 6);
	shared = fx_find(f, SCHED_D_START, "ctr-6")->worker;
	for (int p = 5; p >= 2; p--) {
		char name[16];

		snprintf(name, sizeof(name), "ctr-%d", p);
		assert_int_equal(fx_find(f, SCHED_D_START, name)->worker, shared);
	}
	d = fx_find(f, SCHED_D_START, "ctr-1");
	assert_int_not_equal(d->worker, shared);
	fx_free(f);
}

/* An N-VCPU container never shares an N-VCPU instance, not even with a 0-VCPU one (3.6). */
static void
full_vcpu_not_shared(void **st)
{
	struct fx_world *f = fx_new(NO_TYPE1, 1.0, 10);

	(void)st;
	fx_ctr(f, NULL, SCHED_LOCKED, 2, 2, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 0, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type2 type2");
	fx_free(f);
}

static void
shutdown_at_quota(void **st)
{
	(void)st;
	for (int quota = 1; quota <= 3; quota++) {
		struct fx_world *f = fx_new(ALL_TYPES, 1.0, quota);

		print_message("quota %d\n", quota);
		fx_worker(f, "i-1", 2, SCHED_W_IDLE, SCHED_IDLE_RUN);
		fx_worker(f, "i-2", 2, SCHED_W_IDLE, SCHED_IDLE_RUN);
		fx_ctr(f, NULL, SCHED_LOCKED, 2, 3, ram); /* needs type3 */
		fx_ctr(f, NULL, SCHED_LOCKED, 1, 2, ram); /* needs type2 */
		assert_int_equal(fx_pass(f), 0);
		if (quota < 3) {
			assert_string_equal(fx_started(f), "");
			assert_string_equal(fx_created(f), "");
			assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 2);
			assert_int_equal(fx_count(f, SCHED_D_UNLOCK), 1);
			assert_non_null(fx_find(f, SCHED_D_UNLOCK, "ctr-1"));
			assert_int_equal(fx_find(f, SCHED_D_UNLOCK, "ctr-1")->reason,
					 SCHED_R_OVERQUOTA);
			assert_string_equal(
				fx_status(f, "ctr-2"),
				"Waiting in queue at position 1.  "
				"Cluster is at cloud account limits and cannot start any "
				"new instances right now.");
		} else {
			assert_string_equal(fx_started(f), "ctr-1");
			assert_string_equal(fx_created(f), "type3");
			assert_int_equal(
				fx_count(f, SCHED_D_UNLOCK) + fx_count(f, SCHED_D_SHUTDOWN), 0);
		}
		fx_free(f);
	}
}

static void
instance_capacity(void **st)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);

	(void)st;
	fx_worker(f, "i-1", 4, SCHED_W_IDLE, SCHED_IDLE_RUN);
	f->at_cap[f->w[0].type] = true;
	fx_ctr(f, NULL, SCHED_LOCKED, 4, 4, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 3, 4, ram);
	fx_ctr(f, NULL, SCHED_QUEUED, 2, 4, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 1, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "ctr-4");
	assert_string_equal(fx_created(f), "type1");
	assert_int_equal(fx_count(f, SCHED_D_LOCK) + fx_count(f, SCHED_D_UNLOCK), 0);
	assert_string_equal(
		fx_status(f, "ctr-3"),
		"Waiting in queue at position 1.  Cluster is at "
		"capacity for all eligible instance types (type4) and cannot start a new "
		"instance right now.");
	assert_string_equal(fx_status(f, "ctr-2"),
			    "Waiting in queue at position 2.  Cluster is at "
			    "capacity and cannot start any new instances right now.");
	fx_free(f);
}

static void
idle_in_503_quiet_period(void **st)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);
	int w;

	(void)st;
	/* The back-off stops at the reference's starting limit (docs/SCHEDULER.md, 4.3 503s):
	 * InitialQuotaEstimate 1 makes it 1, the reference's floor. */
	f->cl->containers.cloudvms.initial_quota_estimate = 1;
	fx_resched(f);
	w = fx_worker(f, "i-1", 4, SCHED_W_RUNNING, SCHED_IDLE_RUN);
	fx_worker(f, "i-2", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_run_on(f, fx_ctr(f, "run-a", SCHED_RUNNING, 9, 1, ram), w, false);
	fx_run_on(f, fx_ctr(f, "run-b", SCHED_RUNNING, 9, 1, ram), w, false);
	fx_ctr(f, NULL, SCHED_LOCKED, 3, 1, ram);
	fx_ctr(f, NULL, SCHED_QUEUED, 2, 1, ram);
	f->in.api_last_503 = f->in.now - S;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(f->r.max_concurrent_containers, 1);
	assert_int_equal(f->r.n, 0);
	fx_free(f);
}

static void
supervisors_case(int n_sup, int n_locked, int n_running, int idle, const char *started, int unlocks)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);
	int big = fx_worker(f, "i-big", 16, SCHED_W_RUNNING, SCHED_IDLE_RUN);

	for (int i = 0; i < idle; i++) {
		char id[16];

		snprintf(id, sizeof(id), "i-%d", i);
		fx_worker(f, id, 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	}
	for (int p = n_sup; p >= 1; p--) {
		int c = fx_ctr(f, NULL, n_sup - p < n_locked ? SCHED_LOCKED : SCHED_QUEUED, p + 10,
			       1, ram);

		f->c[c].supervisor = true;
		if (n_sup - p < n_running)
			fx_run_on(f, c, big, true);
	}
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), started);
	assert_int_equal(fx_count(f, SCHED_D_UNLOCK), unlocks);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN) + fx_count(f, SCHED_D_LOCK), 0);
	fx_free(f);
}

static void
unlock_excess_supervisors(void **st)
{
	(void)st;
	supervisors_case(6, 6, 4, 0, "", 2);
}

static void
excess_supervisors(void **st)
{
	struct fx_world *f;

	(void)st;
	supervisors_case(8, 2, 0, 3, "ctr-18 ctr-17", 0);
	f = fx_new(ALL_TYPES, 1.0, 10);
	f->c[fx_ctr(f, NULL, SCHED_QUEUED, 3, 1, ram)].supervisor = true;
	f->c[fx_ctr(f, NULL, SCHED_QUEUED, 2, 1, ram)].supervisor = true;
	f->c[fx_ctr(f, NULL, SCHED_QUEUED, 1, 1, ram)].supervisor = true;
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_status(f, "ctr-1"),
			    "Waiting in workflow queue at position 1.  "
			    "Cluster is at capacity and cannot start any new workflows right now.");
	fx_free(f);
}

static void
skip_supervisors(void **st)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);

	(void)st;
	for (int i = 0; i < 4; i++) {
		char id[16];

		snprintf(id, sizeof(id), "i-%d", i);
		fx_worker(f, id, 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	}
	for (int p = 4; p >= 2; p--)
		f->c[fx_ctr(f, NULL, SCHED_LOCKED, p, 1, ram)].supervisor = true;
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 1, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "ctr-4 ctr-3 ctr-1");
	assert_int_equal(f->r.status[fx_ctr_index(f, "ctr-2")].code, SCHED_ST_SUPERVISOR_LIMIT);
	fx_free(f);
}

static void
equal_priority_containers(void **st)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 2);
	size_t starts = 0;

	(void)st;
	for (int i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "eq-%d", i);
		fx_ctr(f, name, SCHED_QUEUED, 1, 1, ram);
	}
	for (int pass = 0; pass < 30; pass++) {
		assert_int_equal(fx_pass(f), 0);
		starts += fx_count(f, SCHED_D_START);
		assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 0);
		fx_apply(f, true);
	}
	assert_int_equal(starts, 2);
	for (int i = 0; i < 8; i++)
		assert_true(f->unlocks[i] <= 1);
	fx_free(f);
}

static void
start_while_creating(void **st)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);

	(void)st;
	fx_worker(f, "i-idle1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_worker(f, "i-boot1", 1, SCHED_W_BOOTING, SCHED_IDLE_RUN);
	fx_worker(f, "i-idle2", 2, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_worker(f, "i-boot2", 2, SCHED_W_BOOTING, SCHED_IDLE_RUN);
	fx_ctr(f, NULL, SCHED_LOCKED, 6, 1, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 5, 1, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 4, 1, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 3, 2, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 2, 2, ram);
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 2, ram);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "ctr-6 ctr-3");
	assert_string_equal(fx_created(f), "type1 type2");
	assert_string_equal(fx_status(f, "ctr-5"),
			    "Waiting for a type1 instance to boot and be ready to accept work.");
	assert_string_equal(fx_status(f, "ctr-2"),
			    "Waiting for a type2 instance to boot and be ready to accept work.");
	assert_int_equal(f->r.allocated_not_started, 4);
	fx_free(f);
}

static void
containers_metrics(void **st)
{
	struct fx_world *f = fx_new(ALL_TYPES, 1.0, 10);
	int c;

	(void)st;
	fx_worker(f, "i-1", 1, SCHED_W_BOOTING, SCHED_IDLE_RUN);
	c = fx_ctr(f, NULL, SCHED_LOCKED, 1, 1, ram);
	f->c[c].created_at = f->in.now - 10 * S;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(f->r.allocated_not_started, 1);
	assert_int_equal(f->r.not_allocated_over_quota, 0);
	assert_int_equal(f->r.longest_wait, 10 * S);
	f->w[0].state = SCHED_W_IDLE;
	assert_int_equal(fx_pass(f), 0);
	fx_apply(f, false);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(f->r.longest_wait, 0);
	fx_free(f);

	f = fx_new(ALL_TYPES, 1.0, 10);
	fx_ctr(f, NULL, SCHED_LOCKED, 1, 1, ram);
	f->in.quota_hold = true;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(f->r.not_allocated_over_quota, 1);
	assert_int_equal(f->r.allocated_not_started, 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(use_idle_workers),
		cmocka_unit_test(pack_table),
		cmocka_unit_test(instance_state_unknown),
		cmocka_unit_test(pack_0vcpus),
		cmocka_unit_test(full_vcpu_not_shared),
		cmocka_unit_test(shutdown_at_quota),
		cmocka_unit_test(instance_capacity),
		cmocka_unit_test(idle_in_503_quiet_period),
		cmocka_unit_test(unlock_excess_supervisors),
		cmocka_unit_test(excess_supervisors),
		cmocka_unit_test(skip_supervisors),
		cmocka_unit_test(equal_priority_containers),
		cmocka_unit_test(start_while_creating),
		cmocka_unit_test(containers_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
