/*
 * test_sched_fallback.c - spot to on-demand fallback (-spot-fallback-price-factor,
 * -spot-fallback-after-attempts; sched_fallback.c and the fallback list of itypes_choose).
 *
 * The world: type1 and type2 are preemptible (price 1 and 2), type3..type8 are on-demand
 * (price N); MaximumPriceFactor 1.5. A 1-VCPU preemptible container's candidates are [type1];
 * its on-demand list would be [type3, type4], cut at factor x 1 by the fallback price factor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define RAM (128 * FX_MiB)

static const char cap_why[] = "  Fell back from preemptible to non-preemptible instance types "
			      "because every eligible preemptible instance type (type1) is at "
			      "capacity.";

/* type1..type8, the first two preemptible; fallback factor (0: the feature off). */
static struct fx_world *
world(double factor)
{
	struct fx_world *f = fx_new(0x1fe, 1.5, 0);

	f->cl->instance_types[0].preemptible = true;
	f->cl->instance_types[1].preemptible = true;
	itypes_table_set_spot_fallback(f->tt, factor);
	f->preemptible = true;
	return f;
}

/* typeN is at index N-1 in this world. */
static void
at_capacity(struct fx_world *f, int typen, bool v)
{
	f->at_cap[typen - 1] = v;
}

/* The status of a container waiting at position 1 while every type of `types` is at capacity
 * (sched_status.c's words), then why (a fallback's reason, or ""). */
static const char *
all_at_capacity(const char *types, const char *why)
{
	static char buf[512];

	snprintf(
		buf, sizeof(buf),
		"Waiting in queue at position 1.  Cluster is at capacity for all eligible instance "
		"types (%s) and cannot start a new instance right now.%s",
		types, why);
	return buf;
}

static const char *
waiting(const char *type, const char *why)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
		 "Waiting for a %s instance to boot and be ready to accept work.%s", type, why);
	return buf;
}

/* Without the flag nothing changes: the container waits at capacity, as the reference's. */
static void
off_by_default(void **unused)
{
	struct fx_world *f = world(0);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	f->c[0].attempts = 200;
	assert_int_equal(f->c[0].n_fallback, 0);
	at_capacity(f, 1, true);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_int_equal(fx_count(f, SCHED_D_FALLBACK), 0);
	assert_string_equal(fx_status(f, "a"), all_at_capacity("type1", ""));
	fx_free(f);
}

/* Every preemptible candidate at capacity: the cheapest on-demand type within the factor. */
static void
capacity_falls_back(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	assert_int_equal(f->c[0].n_fallback, 1); /* type3 (3 <= 3 x 1); type4 is above */
	/* Spot capacity there: spot, no fallback. */
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type1");
	assert_int_equal(fx_count(f, SCHED_D_FALLBACK), 0);
	assert_string_equal(fx_status(f, "a"), waiting("type1", ""));
	/* At capacity: type3, said so, remembered once. */
	at_capacity(f, 1, true);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type3");
	assert_int_equal(fx_find(f, SCHED_D_FALLBACK, "a")->reason, SCHED_R_FALLBACK_CAPACITY);
	assert_string_equal(fx_status(f, "a"), waiting("type3", cap_why));
	/* A non-preemptible container is not concerned. */
	f->preemptible = false;
	fx_ctr(f, "od", SCHED_LOCKED, 1, 1, RAM);
	assert_int_equal(f->c[1].n_fallback, 0);
	fx_free(f);
}

/* The price factor bounds the on-demand types: none within it, no fallback. */
static void
price_factor_limits(void **unused)
{
	struct fx_world *f = world(2.9);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	assert_int_equal(f->c[0].n_fallback, 0);
	at_capacity(f, 1, true);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_int_equal(fx_count(f, SCHED_D_FALLBACK), 0);
	fx_free(f);

	/* Factor 4: type3 and type4; type3 at capacity too, so type4. */
	f = world(4);
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	assert_int_equal(f->c[0].n_fallback, 2);
	at_capacity(f, 1, true);
	at_capacity(f, 3, true);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type4");
	/* Every on-demand type at capacity as well: no fallback (it waits as before). */
	at_capacity(f, 4, true);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_int_equal(fx_count(f, SCHED_D_FALLBACK), 0);
	assert_string_equal(fx_status(f, "a"), all_at_capacity("type1", ""));
	fx_free(f);
}

/* N earlier attempts: on-demand although spot capacity is there; fewer, or the rule off: spot. */
static void
attempts_fall_back(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	f->c[0].attempts = 3;
	assert_int_equal(fx_pass(f), 0); /* the attempts rule is off */
	assert_string_equal(fx_created(f), "type1");
	sched_set_spot_fallback(f->s, 4);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type1");
	sched_set_spot_fallback(f->s, 3);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type3");
	assert_int_equal(fx_find(f, SCHED_D_FALLBACK, "a")->reason, SCHED_R_FALLBACK_ATTEMPTS);
	assert_string_equal(fx_status(f, "a"),
			    waiting("type3", "  Fell back from preemptible to non-preemptible "
					     "instance types after 3 earlier dispatch attempts."));
	fx_free(f);
}

/* By attempts, an idle spot instance is not used; an idle on-demand one is (PREPARING). */
static void
attempts_skip_spot_instances(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_worker(f, "i-spot", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	fx_worker(f, "i-od", 3, SCHED_W_IDLE, SCHED_IDLE_RUN);
	sched_set_spot_fallback(f->s, 2);
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	f->c[0].attempts = 2;
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "a");
	assert_int_equal(fx_find(f, SCHED_D_START, "a")->worker, 1);
	assert_string_equal(fx_status(f, "a"),
			    "Container is allocated to a type3 instance and preparing to run.  "
			    "Fell back from preemptible to non-preemptible instance types after 2 "
			    "earlier dispatch attempts.");
	fx_free(f);
}

/* A Queued container with nowhere to go on spot is locked for its on-demand type. */
static void
queued_locks_for_fallback(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_ctr(f, "a", SCHED_QUEUED, 1, 1, RAM);
	at_capacity(f, 1, true);
	assert_int_equal(fx_pass(f), 0);
	assert_non_null(fx_find(f, SCHED_D_LOCK, "a"));
	assert_non_null(fx_find(f, SCHED_D_FALLBACK, "a"));
	/* Off: not locked (no type available), as the reference. */
	fx_free(f);
	f = world(0);
	fx_ctr(f, "a", SCHED_QUEUED, 1, 1, RAM);
	at_capacity(f, 1, true);
	assert_int_equal(fx_pass(f), 0);
	assert_null(fx_find(f, SCHED_D_LOCK, "a"));
	fx_free(f);
}

/*
 * Sticky: once fallen back, the container keeps to the on-demand instance booting for it when
 * spot capacity returns (no spot instance created beside it); another container uses spot.
 */
static void
sticky_when_capacity_returns(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 2, 1, RAM);
	at_capacity(f, 1, true);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type3");
	fx_apply(f, false); /* type3 booting; a remembered as fallen back */
	assert_int_equal(f->memo[0].fell_back, SCHED_FB_CAPACITY);
	at_capacity(f, 1, false);
	fx_ctr(f, "b", SCHED_LOCKED, 1, 1, RAM);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type1"); /* b: spot */
	assert_null(fx_find(f, SCHED_D_CREATE, "a"));
	assert_null(fx_find(f, SCHED_D_FALLBACK, "a")); /* logged once only */
	assert_string_equal(fx_status(f, "a"), waiting("type3", cap_why));
	fx_free(f);
}

/* Fallen back, and every type of both lists at capacity: says so, listing them. */
static void
fallen_back_at_capacity(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	f->memo[0].fell_back = SCHED_FB_CAPACITY;
	at_capacity(f, 1, true);
	at_capacity(f, 3, true);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_string_equal(fx_status(f, "a"), all_at_capacity("type1, type3", cap_why));
	/* Spot capacity back while on-demand is still out: spot again rather than wait. */
	at_capacity(f, 1, false);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type1");
	assert_string_equal(fx_status(f, "a"), waiting("type1", ""));
	fx_free(f);
}

/* The budget cap still holds: the on-demand type is charged its own Price. */
static void
budget_cap_holds(void **unused)
{
	struct fx_world *f = world(3);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	at_capacity(f, 1, true);
	sched_set_hourly_cap(f->s, 2);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_string_equal(fx_status(f, "a"),
			    "Waiting for budget: hourly spend $0.00 of cap $2.00.  Cluster is at "
			    "its hourly spend cap and cannot start any new instances right now.");
	sched_set_hourly_cap(f->s, 3);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type3");
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(off_by_default),
		cmocka_unit_test(capacity_falls_back),
		cmocka_unit_test(price_factor_limits),
		cmocka_unit_test(attempts_fall_back),
		cmocka_unit_test(attempts_skip_spot_instances),
		cmocka_unit_test(queued_locks_for_fallback),
		cmocka_unit_test(sticky_when_capacity_returns),
		cmocka_unit_test(fallen_back_at_capacity),
		cmocka_unit_test(budget_cap_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
