/*
 * test_sched_budget.c - the budget cap (-max-hourly-spend, sched_budget.c): at the cap no
 * instance is created and the waiting containers say why; a worker's current spot price counts
 * instead of its type's Price; over the cap idle instances are shed, dearest first, and an
 * instance with a running container never is. Fixture prices: typeN costs N per hour.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define RAM (128 * FX_MiB)

static const char at_cap_2[] =
	"Waiting for budget: hourly spend $2.00 of cap $2.00.  Cluster is at its hourly spend "
	"cap and cannot start any new instances right now.";

/* Four Locked containers, each needing its own type1 (price 1), a cap of 2: two creates. */
static void
cap_blocks_creation(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);

	(void)unused;
	for (int p = 4; p >= 1; p--)
		fx_ctr(f, NULL, SCHED_LOCKED, p, 1, RAM);
	sched_set_hourly_cap(f->s, 2.0);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type1 type1");
	assert_non_null(fx_find(f, SCHED_D_CREATE, "ctr-4"));
	assert_non_null(fx_find(f, SCHED_D_CREATE, "ctr-3"));
	assert_string_equal(fx_status(f, "ctr-4"),
			    "Waiting for a type1 instance to boot and be ready to accept work.");
	assert_string_equal(fx_status(f, "ctr-2"), at_cap_2);
	assert_string_equal(fx_status(f, "ctr-1"), at_cap_2);
	assert_int_equal(fx_count(f, SCHED_D_UNLOCK), 0); /* they wait locked, not requeued */
	assert_true(f->r.hourly_spend == 2.0);
	assert_true(f->r.hourly_cap == 2.0);
	/* The next pass sees the two booting: still nothing more. */
	fx_apply(f, false);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_string_equal(fx_status(f, "ctr-1"), at_cap_2);
	/* Off (0): all four. */
	sched_set_hourly_cap(f->s, 0);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 2);
	assert_true(f->r.hourly_cap == 0);
	fx_free(f);
}

/* A Queued container no instance can take, at the cap: not locked (a lock would only hold it). */
static void
cap_leaves_queued_unlocked(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);

	(void)unused;
	fx_ctr(f, "q", SCHED_QUEUED, 1, 1, RAM);
	sched_set_hourly_cap(f->s, 0.5);
	assert_int_equal(fx_pass(f), 0);
	assert_null(fx_find(f, SCHED_D_LOCK, "q"));
	assert_string_equal(fx_status(f, "q"),
			    "Waiting for budget: hourly spend $0.00 of cap $0.50.  Cluster is at "
			    "its hourly spend cap and cannot start any new instances right now.");
	sched_set_hourly_cap(f->s, 1.0);
	assert_int_equal(fx_pass(f), 0);
	assert_non_null(fx_find(f, SCHED_D_LOCK, "q"));
	fx_free(f);
}

/* The head of the queue needs a type4 over the cap: a later type1 does not take the budget. */
static void
cap_keeps_queue_order(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);

	(void)unused;
	fx_ctr(f, "big", SCHED_LOCKED, 9, 4, RAM);
	fx_ctr(f, "small", SCHED_LOCKED, 1, 1, RAM);
	sched_set_hourly_cap(f->s, 3.0);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_string_equal(fx_status(f, "small"),
			    "Waiting for budget: hourly spend $0.00 of cap $3.00.  Cluster is at "
			    "its hourly spend cap and cannot start any new instances right now.");
	fx_free(f);
}

/* Two busy type1 workers at a spot price of 0.25: spend 0.5, so one more type1 fits a cap of
 * 1.5; at their type's Price (1 each) none would. */
static void
spot_price_counts(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int w1 = fx_worker(f, "i-1", 1, SCHED_W_RUNNING, SCHED_IDLE_RUN);
	int w2 = fx_worker(f, "i-2", 1, SCHED_W_RUNNING, SCHED_IDLE_RUN);

	(void)unused;
	fx_run_on(f, fx_ctr(f, "r1", SCHED_RUNNING, 5, 1, RAM), w1, false);
	fx_run_on(f, fx_ctr(f, "r2", SCHED_RUNNING, 5, 1, RAM), w2, false);
	fx_ctr(f, "a", SCHED_LOCKED, 2, 1, RAM);
	fx_ctr(f, "b", SCHED_LOCKED, 1, 1, RAM);
	sched_set_hourly_cap(f->s, 1.5);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0); /* 2 + 1 > 1.5 */
	assert_string_equal(fx_status(f, "a"),
			    "Waiting for budget: hourly spend $2.00 of cap $1.50.  Cluster is at "
			    "its hourly spend cap and cannot start any new instances right now.");
	f->w[w1].price = f->w[w2].price = 0.25;
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type1");
	assert_non_null(fx_find(f, SCHED_D_CREATE, "a"));
	assert_string_equal(fx_status(f, "b"),
			    "Waiting for budget: hourly spend $1.50 of cap $1.50.  Cluster is at "
			    "its hourly spend cap and cannot start any new instances right now.");
	assert_true(f->r.hourly_spend == 1.5);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 0); /* busy workers are never shed */
	fx_free(f);
}

static bool
shut(const struct fx_world *f, int w)
{
	for (size_t i = 0; i < f->r.n; i++)
		if (f->r.d[i].kind == SCHED_D_SHUTDOWN && f->r.d[i].worker == w)
			return true;
	return false;
}

/* Restarted with a cap below the spend: idle instances go, dearest first, until within it. */
static void
over_cap_sheds_idle(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int i2 = fx_worker(f, "i-2", 2, SCHED_W_IDLE, SCHED_IDLE_RUN);
	int i4 = fx_worker(f, "i-4", 4, SCHED_W_IDLE, SCHED_IDLE_RUN);
	int i1 = fx_worker(f, "i-1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	int i8 = fx_worker(f, "i-8", 8, SCHED_W_RUNNING, SCHED_IDLE_RUN);
	int ih = fx_worker(f, "i-h", 16, SCHED_W_IDLE, SCHED_IDLE_HOLD);

	(void)unused;
	fx_run_on(f, fx_ctr(f, "r", SCHED_RUNNING, 1, 8, RAM), i8, false);
	/* Spend 1 + 2 + 4 + 8 + 16 = 31; cap 25: the dearest sheddable (i-4, 4) then i-2. */
	sched_set_hourly_cap(f->s, 25);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 2);
	assert_true(shut(f, i4) && shut(f, i2));
	assert_true(f->r.d[0].worker == i4);
	assert_true(f->r.hourly_spend == 25);
	/* Once those two are shutting down, the next pass sheds nothing more (they still count
	 * as spend until gone, but are already off the list to shed). */
	fx_apply(f, false);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 0);
	assert_true(f->r.hourly_spend == 31);
	f->w[i4].state = f->w[i2].state = SCHED_W_IDLE;
	/* Cap 1: every idle one goes; the running one and the held one stay. */
	sched_set_hourly_cap(f->s, 1);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 3);
	assert_true(shut(f, i4) && shut(f, i2) && shut(f, i1));
	assert_false(shut(f, i8) || shut(f, ih));
	assert_int_equal(fx_count(f, SCHED_D_KILL), 0);
	/* Without a cap: nothing is shed. */
	sched_set_hourly_cap(f->s, 0);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 0);
	fx_free(f);
}

/* An instance being shut down is billed until gone: no replacement within the cap before. */
static void
shutting_down_counts(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	fx_worker(f, "i-1", 1, SCHED_W_SHUTDOWN, SCHED_IDLE_RUN);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	sched_set_hourly_cap(f->s, 1);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_string_equal(fx_status(f, "a"),
			    "Waiting for budget: hourly spend $1.00 of cap $1.00.  Cluster is at "
			    "its hourly spend cap and cannot start any new instances right now.");
	f->nw = 0; /* gone from the cloud's list */
	assert_int_equal(fx_pass(f), 0);
	assert_non_null(fx_find(f, SCHED_D_CREATE, "a"));
	fx_free(f);
}

/* Over the cap, an idle instance a waiting container can use is used, not shed. */
static void
over_cap_uses_idle_first(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int i1 = fx_worker(f, "i-1", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);
	int i2 = fx_worker(f, "i-2", 1, SCHED_W_IDLE, SCHED_IDLE_RUN);

	(void)unused;
	fx_ctr(f, "a", SCHED_LOCKED, 1, 1, RAM);
	sched_set_hourly_cap(f->s, 1);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_started(f), "a");
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 1);
	assert_true(shut(f, i2) != shut(f, i1));
	assert_true(f->r.hourly_spend == 1);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_blocks_creation),
		cmocka_unit_test(cap_leaves_queued_unlocked),
		cmocka_unit_test(cap_keeps_queue_order),
		cmocka_unit_test(spot_price_counts),
		cmocka_unit_test(over_cap_sheds_idle),
		cmocka_unit_test(over_cap_uses_idle_first),
		cmocka_unit_test(shutting_down_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
