/* standby.c - see standby.h. */
#include "standby.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "dispatch_gate.h"
#include "log.h"
#include "metrics_catalog.h"
#include "pglock.h"
#include "pool_gate.h"
#include "sched_driver_gate.h"

#define STANDBY_GAUGE MET_PREFIX "active"

struct standby {
	struct pglock *lock;
	struct pool *pool;
	struct sched_driver *sched;
	struct metric_family *gauge;
	uint64_t since_ns; /* when the current state began */
	bool ever_active;
};

static struct metric_family *
standby_gauge(struct metrics_registry *m)
{
	if (m == NULL)
		return NULL;
	return metrics_register(
		m, METRIC_GAUGE, STANDBY_GAUGE,
		"1 while this dispatcher holds the cluster's dispatch lock (or runs "
		"without PostgreSQL), 0 while it stands by",
		0, NULL);
}

static void
standby_status(void)
{
	char buf[320] = "STATUS=";

	if (dispatch_gate_status(buf + 7, sizeof(buf) - 7))
		sd_notify(0, buf);
}

static void
standby_reason(struct standby *s)
{
	char r[256];
	const char *h = pglock_holder(s->lock), *e = pglock_last_error(s->lock);

	if (h[0] != '\0')
		snprintf(r, sizeof(r), "lock held by %s", h);
	else if (e[0] != '\0')
		snprintf(r, sizeof(r), "waiting for the PostgreSQL advisory lock (%s)", e);
	else
		snprintf(r, sizeof(r), "waiting for the PostgreSQL advisory lock");
	dispatch_gate_set_reason(r);
	standby_status();
}

static void
standby_on_holder(void *arg, const char *holder)
{
	(void)holder;
	standby_reason(arg);
}

static void
standby_on_confirm(void *arg)
{
	struct standby *s = arg;
	/* Active, but the lease ran out before this confirmation: the loop was frozen (SIGSTOP,
	 * a stalled host) past it. What the pool knew may be stale: probe again, as on resume;
	 * this also restarts the kill steps that the gate skipped. */
	bool lapsed = pglock_state(s->lock) == PGLOCK_ACTIVE && !dispatch_gate_open();

	dispatch_gate_set_lease(uv_hrtime() + (uint64_t)pglock_lease_ms(s->lock) * 1000000);
	if (lapsed) {
		log_kv(LOG_LVL_WARN,
		       "lock confirmed again after its lease ran out: probing workers",
		       LF_INT("LeaseMs", pglock_lease_ms(s->lock)));
		pool_gate_resume(s->pool);
	}
}

static void
standby_on_change(void *arg, enum pglock_state st)
{
	struct standby *s = arg;
	uint64_t now = uv_hrtime();
	int64_t ms = (int64_t)((now - s->since_ns) / 1000000);

	s->since_ns = now;
	if (st == PGLOCK_ACTIVE) {
		dispatch_gate_set(true);
		if (s->gauge != NULL)
			metrics_set(s->gauge, NULL, 1);
		log_kv(LOG_LVL_INFO, "dispatcher active: holding the PostgreSQL advisory lock",
		       LF_INT("StandbyMs", ms), LF_BOOL("Resumed", s->ever_active));
		s->ever_active = true;
		sd_notify(0, "STATUS=active: holding the PostgreSQL advisory lock");
		pool_gate_resume(s->pool);
		sched_driver_gate_resume(s->sched);
		return;
	}
	dispatch_gate_set(false);
	sched_driver_gate_pause(s->sched);
	if (s->gauge != NULL)
		metrics_set(s->gauge, NULL, 0);
	log_kv(LOG_LVL_WARN, "dispatcher in standby: dispatching stopped, state kept",
	       LF_INT("ActiveMs", ms));
	standby_reason(s);
}

int
standby_init(struct standby **out, uv_loop_t *loop, const struct cfg_cluster *cfg,
	     struct metrics_registry *metrics)
{
	struct metric_family *g = standby_gauge(metrics);
	struct standby *s;
	char err[512];

	*out = NULL;
	if (!pglock_configured(&cfg->postgres)) {
		dispatch_gate_set(true);
		if (g != NULL)
			metrics_set(g, NULL, 1);
		log_kv(LOG_LVL_WARN,
		       "no PostgreSQL.Connection configured: not taking the advisory lock; make "
		       "sure only one dispatcher runs for this cluster",
		       LF_INT("Key", PGLOCK_KEY));
		return 0;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_emit_err(LOG_LVL_FATAL, "cannot start the dispatch lock", "out of memory",
			     (const struct log_field[]){ LF_END });
		return -1;
	}
	s->gauge = g;
	s->since_ns = uv_hrtime();
	struct pglock_opts o = { .loop = loop,
				 .conn = &cfg->postgres,
				 .on_change = standby_on_change,
				 .on_holder = standby_on_holder,
				 .on_confirm = standby_on_confirm,
				 .arg = s };
	if (pglock_new(&o, &s->lock, err, sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot start the dispatch lock", err,
			     (const struct log_field[]){ LF_END });
		free(s);
		return -1;
	}
	dispatch_gate_set(false);
	dispatch_gate_set_reason("waiting for the PostgreSQL advisory lock");
	if (g != NULL)
		metrics_set(g, NULL, 0);
	*out = s;
	return 0;
}

void
standby_start(struct standby *s)
{
	if (s == NULL)
		return;
	log_kv(LOG_LVL_INFO, "standby: seeking the PostgreSQL advisory lock",
	       LF_INT("Key", PGLOCK_KEY), LF_INT("RetryMs", PGLOCK_RETRY_MS));
	pglock_start(s->lock);
}

void
standby_attach(struct standby *s, struct pool *pool, struct sched_driver *sched)
{
	if (s == NULL)
		return;
	s->pool = pool;
	s->sched = sched;
	/* Locked before the services existed: they start as after a restart anyway. */
}

void
standby_close(struct standby *s)
{
	if (s == NULL)
		return;
	pglock_close(s->lock);
	s->lock = NULL;
	s->pool = NULL;
	s->sched = NULL;
	free(s);
}
