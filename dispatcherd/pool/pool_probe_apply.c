/* pool_probe_apply.c - applying a probe's result to its worker (5.7.3 parsing, 5.7.4). */
#include "pool_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_list_parse.h"
#include "pool_spot_parse.h"
#include "rfc3339.h"

/* The worker's `crunch-run --list` output (pool_list_parse.c), after the spot check's line
 * when the probe did one (pool_spot_parse.c), with one log line for each stale run lock it
 * reports. 0, or -1 on ENOMEM. */
static int
pool_probe_parse(struct pool_probe *pr, struct pool_probe_lines *l)
{
	char *list = pr->out;

	if (pr->spot) {
		struct pool_spot s;

		list = pool_spot_take(pr->out, pr->w->id, &s);
		pool_spot_apply(pr->w, &s);
	}
	if (pool_probe_lines_parse(list, pr->p->cl->cluster_id, l) < 0)
		return -1;
	for (size_t i = 0; i < l->n_stale; i++)
		log_kv(LOG_LVL_INFO, "probe reported stale run lock", POOL_WF(pr->w),
		       LF_STR("ContainerUUID", l->stale[i]));
	return 0;
}

static void
pool_probe_stale(struct pool_probe *pr, struct pool_probe_lines *l, int64_t now)
{
	struct pool_worker *w = pr->w;

	if (l->n_stale == 0) {
		w->stale_since = 0;
		return;
	}
	if (!w->stale_since) {
		w->stale_since = now;
	} else if (now - w->stale_since > pr->p->vm->timeout_stale_run_lock) {
		log_kv(LOG_LVL_WARN, "reporting broken after reporting stale run lock for too long",
		       POOL_WF(w));
		l->broken = true;
	}
}

static size_t
pool_running_count(const struct pool_worker *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n_run; i++)
		n += w->run[i]->running;
	return n;
}

/* Step 2: the failure path. */
static void
pool_probe_failed(struct pool_probe *pr)
{
	struct pool_worker *w = pr->w;
	const struct cfg_cloudvms *vm = pr->p->vm;
	bool booting = w->state == SCHED_W_UNKNOWN || w->state == SCHED_W_BOOTING;
	int64_t elapsed = pr->start - w->probed;
	int64_t threshold = booting ? vm->timeout_booting : vm->timeout_probe;
	char dur[32], since[48];

	if (w->state == SCHED_W_SHUTDOWN || w->idle == SCHED_IDLE_HOLD || elapsed < threshold)
		return;
	snprintf(dur, sizeof(dur), "%.3fs", (double)elapsed / 1e9);
	rfc3339_format(w->probed, 0, since, sizeof(since));
	log_kv(LOG_LVL_WARN,
	       booting ? "new instance unresponsive, shutting down -- `arvados-dispatch-cloud "
			 "cloudtest` "
			 "might help "
			 "troubleshoot, see https://doc.arvados.org/main/admin/cloudtest.html"
		       : "instance unresponsive, shutting down",
	       POOL_WF(w), LF_STR("Duration", dur), LF_STR("Since", since),
	       LF_STR("State", pool_state_name(w->state)));
	pool_worker_shutdown(w);
	if (!pr->booted) {
		pool_boot_outcome(w, "failure");
		log_kv_err(LOG_LVL_INFO, "boot failed", pr->boot_err ? pr->boot_err : "",
			   POOL_WF(w), LF_STR("stderr", pr->boot_stderr ? pr->boot_stderr : ""));
	}
}

static bool
pool_in(const struct pool_probe_lines *l, const char *uuid)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->uuids[i], uuid) == 0)
			return true;
	return false;
}

/* Step 5: reconcile the runners with what the probe saw. true if anything changed. */
static bool
pool_probe_reconcile(struct pool_probe *pr, const struct pool_probe_lines *l)
{
	struct pool_worker *w = pr->w;
	bool changed = false;

	for (size_t i = 0; i < l->n; i++) {
		struct pool_runner *r = pool_runner_find(w, l->uuids[i]);

		if (r && !r->running) {
			r->running = true;
			changed = true;
		} else if (!r && pool_runner_add(w, l->uuids[i], true)) {
			log_kv(LOG_LVL_INFO, "crunch-run process detected", POOL_WF(w),
			       LF_STR("ContainerUUID", l->uuids[i]));
			changed = true;
		}
	}
	for (size_t i = w->n_run; i-- > 0;) {
		struct pool_runner *r = w->run[i];

		if (r->running && !pool_in(l, r->uuid)) {
			pool_runner_ended(r); /* may make it idle; reconsidered below */
			changed = true;
		}
	}
	return changed;
}

static void
pool_probe_success(struct pool_probe *pr, const struct pool_probe_lines *l, int64_t now)
{
	struct pool_worker *w = pr->w;
	struct pool *p = pr->p;
	bool was_new = w->state == SCHED_W_UNKNOWN || w->state == SCHED_W_BOOTING;
	bool changed;

	if (l->n > 0) {
		w->busy = now;
		if (!w->last_uuid[0])
			snprintf(w->last_uuid, sizeof(w->last_uuid), "%s", l->uuids[0]);
	} else if (pool_running_count(w) > 0) {
		w->busy = now;
	}
	changed = pool_probe_reconcile(pr, l);
	if (pr->booted && was_new) {
		if (w->state == SCHED_W_BOOTING && w->first_ssh)
			pool_metrics_observe(p, p->m_ready, NULL,
					     (double)(now - w->first_ssh) / 1e9);
		w->state = SCHED_W_IDLE;
		changed = true;
	}
	if (!changed)
		return;
	if (w->state == SCHED_W_UNKNOWN)
		log_kv(LOG_LVL_INFO, "crunch-run probe succeeded, but boot probe is still failing",
		       POOL_WF(w), LF_INT("RunningContainers", w->n_run),
		       LF_STR("State", pool_state_name(w->state)));
	if (w->state == SCHED_W_IDLE && w->n_run > 0)
		w->state = SCHED_W_RUNNING;
	else if (w->state == SCHED_W_RUNNING && w->n_run == 0)
		w->state = SCHED_W_IDLE;
	w->updated = now;
	if (was_new && w->state != SCHED_W_UNKNOWN && w->state != SCHED_W_BOOTING) {
		pool_boot_outcome(w, "success");
		log_kv(LOG_LVL_INFO, "probes succeeded, instance is in service", POOL_WF(w));
	}
	pool_changed(p);
}

void
pool_probe_apply(struct pool_probe *pr)
{
	struct pool_worker *w = pr->w;
	struct pool_probe_lines l = { 0 };
	int64_t now = pool_now(pr->p);

	if (pr->ok && pool_probe_parse(pr, &l) < 0)
		pr->ok = false;
	if (pr->ok)
		pool_probe_stale(pr, &l, now);
	if (l.broken && w->idle == SCHED_IDLE_RUN && w->state != SCHED_W_SHUTDOWN) {
		log_kv(LOG_LVL_INFO, "probe reported broken instance", POOL_WF(w));
		pool_boot_outcome(w, "failure");
		w->idle = SCHED_IDLE_DRAIN;
		pool_tags_save(w);
		pool_shutdown_if_idle(w);
	}
	if (w->state == SCHED_W_SHUTDOWN) {
		pool_probe_lines_free(&l);
		return;
	}
	if (!pr->ok || (!pr->booted && l.n == 0 && pool_running_count(w) == 0)) {
		pool_probe_failed(pr);
	} else {
		w->probed = now;
		if (w->updated != pr->updated0)
			log_kv(LOG_LVL_DEBUG, "skipping worker state update due to probe/sync race",
			       POOL_WF(w));
		else
			pool_probe_success(pr, &l, now);
	}
	pool_probe_lines_free(&l);
}
