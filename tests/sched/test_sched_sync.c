/* test_sched_sync.c - 4.4 (reconcile queue and pool) as a table, and 2.9's unlock list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

#define T0 (500 * SCHED_SECOND)

struct sync_case {
	const char *name;
	enum sched_cstate state;
	bool in_r, exited;
	sched_time exit_time; /* the threshold T is T0; not in R: when it was found so */
	int64_t prio;
	bool unknown_workers, busy;
	int kind; /* 0: nothing */
	enum sched_dreason reason;
};

static const struct sync_case cases[] = {
	{ "Running, not in R", SCHED_RUNNING, false, false, 0, 1, false, false, SCHED_D_CANCEL,
	  SCHED_R_NOT_RUNNING },
	{ "Running, not in R since before T", SCHED_RUNNING, false, false, T0 - 1, 1, false, false,
	  SCHED_D_CANCEL, SCHED_R_NOT_RUNNING },
	/* The queue's last poll started before the pool found it gone: it may have finished
	 * meanwhile (Complete -> Cancelled is allowed by the API server). */
	{ "Running, not in R since T", SCHED_RUNNING, false, false, T0, 1, false, false, 0, 0 },
	{ "Running, not in R, unknown workers", SCHED_RUNNING, false, false, 0, 1, true, false, 0,
	  0 },
	{ "Running, exited before T", SCHED_RUNNING, true, true, T0 - 1, 1, false, false,
	  SCHED_D_CANCEL, SCHED_R_RUNNING_AFTER_EXIT },
	{ "Running, exited at T", SCHED_RUNNING, true, true, T0, 1, false, false, 0, 0 },
	{ "Running, in R, priority 0", SCHED_RUNNING, true, false, 0, 0, false, false, SCHED_D_KILL,
	  SCHED_R_PRIORITY_ZERO },
	{ "Running, in R", SCHED_RUNNING, true, false, 0, 1, false, false, 0, 0 },
	{ "Complete, in R", SCHED_COMPLETE, true, false, 0, 1, false, false, SCHED_D_KILL,
	  SCHED_R_STATE_COMPLETE },
	{ "Cancelled, in R", SCHED_CANCELLED, true, false, 0, 1, false, false, SCHED_D_KILL,
	  SCHED_R_STATE_CANCELLED },
	{ "Complete", SCHED_COMPLETE, false, false, 0, 1, false, false, SCHED_D_FORGET,
	  SCHED_R_FINISHED },
	{ "Cancelled", SCHED_CANCELLED, false, false, 0, 0, false, false, SCHED_D_FORGET,
	  SCHED_R_FINISHED },
	{ "Queued, in R", SCHED_QUEUED, true, false, 0, 1, false, false, SCHED_D_KILL,
	  SCHED_R_QUEUED_BUT_RUNNING },
	{ "Queued, priority 0", SCHED_QUEUED, false, false, 0, 0, false, false, SCHED_D_FORGET,
	  SCHED_R_ON_HOLD },
	{ "Queued", SCHED_QUEUED, false, false, 0, 1, false, false, 0, 0 },
	{ "Locked, exited before T", SCHED_LOCKED, true, true, T0 - 1, 1, false, false,
	  SCHED_D_UNLOCK, SCHED_R_CRUNCH_RUN_EXITED },
	{ "Locked, exited before T, slot busy", SCHED_LOCKED, true, true, T0 - 1, 1, false, true, 0,
	  0 },
	{ "Locked, exited after T", SCHED_LOCKED, true, true, T0 + 1, 1, false, false, 0, 0 },
	{ "Locked, running, priority 0", SCHED_LOCKED, true, false, 0, 0, false, false,
	  SCHED_D_KILL, SCHED_R_PRIORITY_ZERO },
	{ "Locked, not in R, priority 0", SCHED_LOCKED, false, false, 0, 0, false, false,
	  SCHED_D_UNLOCK, SCHED_R_PRIORITY_ZERO },
	{ "Locked, not in R", SCHED_LOCKED, false, false, 0, 1, false, false, 0, 0 },
	{ "other state", SCHED_CSTATE_OTHER, false, false, 0, 1, false, false, SCHED_D_BUG_STATE,
	  0 },
};

static void
sync_table(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sync_case *sc = &cases[i];
		struct fx_world *f = fx_new(0x1fffe, 1.0, 10);
		int c = fx_ctr(f, "x", sc->state, sc->prio, 1, 1 << 20);

		print_message("case %s\n", sc->name);
		f->c[c].in_running = sc->in_r;
		f->c[c].exited = sc->exited;
		f->c[c].exit_time = sc->exit_time;
		if (!sc->in_r)
			f->memo[c].not_running_since = sc->exit_time;
		f->c[c].op_in_flight = sc->busy;
		f->in.queue_threshold = T0;
		f->in.any_unknown_worker = sc->unknown_workers;
		assert_int_equal(fx_sync(f), 0);
		assert_int_equal(f->r.n, sc->kind ? 1 : 0);
		assert_int_equal(f->r.rearm_soon, sc->busy);
		if (sc->kind) {
			assert_int_equal(f->r.d[0].kind, sc->kind);
			assert_int_equal(f->r.d[0].reason, sc->reason);
			assert_int_equal(f->r.d[0].ctr, c);
		}
		fx_free(f);
	}
}

static void
kill_nonexistent_container(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 10);
	const char *orphans[] = { "zzzzz-dz642-notinthequeue" };

	(void)unused;
	f->in.running_uncached = orphans;
	f->in.n_running_uncached = 1;
	assert_int_equal(fx_sync(f), 0);
	assert_int_equal(f->r.n, 1);
	assert_int_equal(f->r.d[0].kind, SCHED_D_KILL);
	assert_int_equal(f->r.d[0].ctr, -1);
	assert_string_equal(f->r.d[0].uuid, orphans[0]);
	assert_string_equal(sched_reason_text(f->r.d[0].reason), "not in queue");
	fx_free(f);
}

static void
reason_texts(void **unused)
{
	(void)unused;
	assert_string_equal(sched_reason_text(SCHED_R_OVERQUOTA),
			    "unlock because pool capacity is used by higher priority containers");
	assert_string_equal(sched_reason_text(SCHED_R_QUEUED_BUT_RUNNING),
			    "pool says running, but queue says state=Queued");
	assert_string_equal(sched_reason_text(SCHED_R_RUNNING_AFTER_EXIT),
			    "state=Running after crunch-run exited");
	assert_string_equal(sched_reason_text(SCHED_R_FINISHED),
			    "container finished -- dropping from queue");
	assert_string_equal(sched_reason_text(SCHED_R_ON_HOLD),
			    "container on hold -- dropping from queue");
	assert_string_equal(sched_reason_text(99), "");
}

/* CancelOrphanedContainers: kept while an unknown worker may still report it, then cancelled. */
static void
cancel_orphaned(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.0, 10);

	(void)unused;
	fx_ctr(f, "orphan", SCHED_RUNNING, 1, 1, 1 << 20);
	f->in.any_unknown_worker = true;
	assert_int_equal(fx_sync(f), 0);
	assert_int_equal(f->r.n, 0);
	f->in.any_unknown_worker = false;
	assert_int_equal(fx_sync(f), 0);
	assert_non_null(fx_find(f, SCHED_D_CANCEL, "orphan"));
	fx_apply(f, false);
	assert_int_equal(fx_sync(f), 0);
	assert_non_null(fx_find(f, SCHED_D_FORGET, "orphan"));
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync_table),
		cmocka_unit_test(kill_nonexistent_container),
		cmocka_unit_test(reason_texts),
		cmocka_unit_test(cancel_orphaned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
