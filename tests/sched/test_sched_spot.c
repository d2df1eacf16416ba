/*
 * test_sched_spot.c - replacements for spot-noticed workers (sched_spot.c): a runner of a
 * noticed (drained) worker that has no room elsewhere on an instance of that worker's type
 * asks for one new instance, after the queue and within its limits; room elsewhere (idle,
 * booting, a create of this pass) is reserved instead, so no second replacement is asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define RAM (128 * FX_MiB)

/* A type4 worker running one 1-VCPU container, noticed (the pool drained it). */
static int
noticed(struct fx_world *f, const char *id, const char *ctr)
{
	int w = fx_worker(f, id, 4, SCHED_W_RUNNING, SCHED_IDLE_DRAIN);
	int c = fx_ctr(f, ctr, SCHED_RUNNING, 1, 1, RAM);

	fx_run_on(f, c, w, false);
	f->w[w].spot_notice = true;
	return w;
}

static const struct sched_decision *
the_create(const struct fx_world *f)
{
	for (size_t i = 0; i < f->r.n; i++)
		if (f->r.d[i].kind == SCHED_D_CREATE)
			return &f->r.d[i];
	return NULL;
}

static void
replacement_created_once(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int w;

	(void)unused;
	w = noticed(f, "i-a", "running");
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type4");
	assert_int_equal(the_create(f)->ctr, -1);
	assert_int_equal(the_create(f)->worker, w);
	/* Booting, then idle: its room is the replacement's; nothing more is asked for, and
	 * the idle one is not shut down for being unused. */
	fx_apply(f, false);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	f->w[1].state = SCHED_W_IDLE;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	assert_int_equal(fx_count(f, SCHED_D_SHUTDOWN), 0);
	fx_free(f);
}

/* Without the notice (the flag off, or no notice yet) a drained worker gets nothing. */
static void
no_notice_no_replacement(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int w;

	(void)unused;
	w = noticed(f, "i-a", "running");
	f->w[w].spot_notice = false;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	fx_free(f);
}

/* An idle type4 with room already there: reserved, no create. A busy type4 with room for the
 * runner too. Two runners of 1 VCPU on the noticed worker, no room anywhere: one create,
 * the second packs on its placeholder. */
static void
room_is_reserved_not_created(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 0);
	int w, c;

	(void)unused;
	noticed(f, "i-a", "running");
	fx_worker(f, "i-b", 4, SCHED_W_IDLE, SCHED_IDLE_RUN);
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	fx_free(f);

	f = fx_new(0x1fffe, 1.0, 0);
	w = noticed(f, "i-a", "r1");
	c = fx_ctr(f, "r2", SCHED_RUNNING, 1, 1, RAM);
	fx_run_on(f, c, w, false);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type4");
	fx_free(f);
}

/* The queue first: a queued container takes the only instance MaxInstances allows. */
static void
queue_comes_first(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 2);

	(void)unused;
	noticed(f, "i-a", "running");
	fx_ctr(f, "waiting", SCHED_LOCKED, 5, 8, RAM);
	assert_int_equal(fx_pass(f), 0);
	assert_string_equal(fx_created(f), "type8");
	assert_non_null(fx_find(f, SCHED_D_CREATE, "waiting"));
	/* Held at capacity: no replacement of that type either. */
	fx_apply(f, false);
	f->cl->containers.cloudvms.max_instances = 0;
	f->at_cap[f->w[0].type] = true;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(fx_count(f, SCHED_D_CREATE), 0);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replacement_created_once),
		cmocka_unit_test(no_notice_no_replacement),
		cmocka_unit_test(room_is_reserved_not_created),
		cmocka_unit_test(queue_comes_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
