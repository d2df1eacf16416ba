/*
 * pool_probe_loop.c - the probe loop (5.3): every ProbeInterval, apply the idle-shutdown rule
 * to each worker, then start probes paced by MaxProbesPerSecond.
 *
 * Deviation (weakness 17): a round's pace is max(MaxProbesPerSecond, workers / ProbeInterval),
 * so one round always fits in one ProbeInterval; with 1000 instances and the defaults
 * (10/s, 10 s) probes go at 100/s instead of a 100 s round. Probes are cheap here: sshd-pool
 * keeps one session per worker, so a probe is one exec on an open connection.
 * Deviation (weakness 6): a probe still running after its state's timeout (TimeoutBooting or
 * TimeoutProbe) no longer blocks the timeout: the worker is treated as unresponsive.
 * The pace is a schedule, not a sleep between starts: each start has its time (the round's
 * first + k * gap), and every start whose time has come is made in one timer callback. Before,
 * each callback made one start and re-armed the timer for the next gap, so with 10,000 workers
 * (a 1 ms gap) the rate was the loop's iterations per second: ~38/s while scheduling turns took
 * ~26 ms (issue 16), a round of 4 minutes instead of 10 s. A loop stalled for long may owe many
 * starts: at most one second of them are made at once.
 * A round paced to fill ProbeInterval ends a little after the next tick (its random delay, the
 * loop's turns), and that tick was dropped: the next round came a whole interval later, so
 * every worker was probed every 2 x ProbeInterval (bench_e2e_scale: 430-500 probes/s of 1,000).
 * The tick is owed instead, and the next round starts when this one ends, as the reference's
 * Go ticker keeps one tick for a loop that is late.
 */
#include "pool_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dispatch_gate.h"

static void pool_round_start(struct pool *p, bool jitter_first);

static void
pool_round_clear(struct pool *p)
{
	for (size_t i = 0; i < p->n_round; i++)
		free(p->round[i]);
	p->n_round = p->round_pos = 0;
	p->probe_next_ok = 0; /* the next round's schedule starts at its first start */
}

static int64_t
pool_probe_gap(const struct pool *p)
{
	double rate = p->vm->max_probes_per_second;
	double interval = (double)p->vm->probe_interval / 1e9;

	if (interval > 0 && (double)p->n_round / interval > rate)
		rate = (double)p->n_round / interval;
	return rate > 0 ? (int64_t)(1e9 / rate) : 0;
}

/* A probe that outlived its deadline (weakness 6). */
static void
pool_probe_overdue(struct pool_worker *w, int64_t now)
{
	const struct cfg_cloudvms *vm = w->p->vm;
	bool booting = w->state == SCHED_W_UNKNOWN || w->state == SCHED_W_BOOTING;
	int64_t threshold = booting ? vm->timeout_booting : vm->timeout_probe;

	log_kv(LOG_LVL_DEBUG, "still waiting for last probe to finish", POOL_WF(w));
	if (w->idle == SCHED_IDLE_HOLD || w->state == SCHED_W_SHUTDOWN ||
	    now - w->probe_started < threshold || now - w->probed < threshold)
		return;
	log_kv(LOG_LVL_WARN, "instance unresponsive, shutting down", POOL_WF(w),
	       LF_STR("State", pool_state_name(w->state)), LF_STR("Reason", "probe hung"));
	if (booting)
		pool_boot_outcome(w, "failure");
	pool_worker_shutdown(w);
}

void
pool_pace_timer_cb(uv_timer_t *t)
{
	struct pool *p = t->data;
	int64_t gap = pool_probe_gap(p);

	while (!p->closing && dispatch_gate_open() && p->round_pos < p->n_round) {
		int64_t now = pool_now(p);

		if (p->probe_next_ok == 0 || p->probe_next_ok < now - POOL_SECOND)
			p->probe_next_ok = now; /* a round's first start; or at most 1 s owed */
		if (gap && now < p->probe_next_ok) {
			uint64_t ms = pool_ms(p->probe_next_ok - now);

			uv_timer_start(&p->pace_timer, pool_pace_timer_cb, ms ? ms : 1, 0);
			return;
		}
		struct pool_worker *w = pool_worker_find(p, p->round[p->round_pos++]);

		if (!w || w->state == SCHED_W_SHUTDOWN)
			continue;
		if (w->probing) {
			pool_probe_overdue(w, now);
			continue;
		}
		p->probe_next_ok += gap;
		pool_probe_worker(w);
	}
	pool_round_clear(p);
	if (p->round_owed) {
		p->round_owed = false;
		if (!p->closing && dispatch_gate_open())
			pool_round_start(p, false);
	}
}

/* A new round: the idle-shutdown rule for each worker, then its probes paced from now (after
 * a random delay when jitter). */
static void
pool_round_start(struct pool *p, bool jitter_first)
{
	unsigned int r = 0;
	uint64_t jitter;

	pool_round_clear(p);
	p->rounds++;
	char **a = realloc(p->round, (p->n_workers + 1) * sizeof(char *));

	if (!a)
		return;
	p->round = a;
	for (size_t i = 0; i < p->n_workers; i++) {
		struct pool_worker *w = p->workers[i];

		if (w->state == SCHED_W_SHUTDOWN || pool_shutdown_if_idle(w))
			continue;
		if (!(p->round[p->n_round] = strdup(w->id)))
			break;
		p->n_round++;
	}
	if (p->n_round == 0)
		return;
	/* After a random delay in [0, ProbeInterval/23), so many dispatchers do not align. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = 0;
	jitter = jitter_first ? pool_ms(p->vm->probe_interval / 23) : 0;
	uv_timer_start(&p->pace_timer, pool_pace_timer_cb, jitter ? r % jitter : 0, 0);
}

void
pool_probe_timer_cb(uv_timer_t *t)
{
	struct pool *p = t->data;

	if (p->closing)
		return;
	pool_metrics_update(p); /* weakness 13: probe ages refresh without on_change wake-ups */
	if (!dispatch_gate_open())
		return; /* standby: no probe, no idle shutdown (issue 15) */
	if (p->round_pos < p->n_round) {
		p->round_owed = true; /* a round is still going: the next starts at its end */
		return;
	}
	pool_round_start(p, true);
}
