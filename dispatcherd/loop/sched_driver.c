/* sched_driver.c - see sched_driver.h: timers, phases, the pass. */
#include "sched_driver_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "dispatch_gate.h"
#include "log.h"

#define SD_REARM_MS 250

static void sd_kick_cb(uv_timer_t *t);

/* Whether sd_pass would run a pass now. */
static bool
sd_pass_runs(const struct sched_driver *d)
{
	/* the gate: a lapsed lock lease (issue 15); 4.1: counting workers waits for the first
	 * instance list */
	return d->phase == SDP_RUN && dispatch_gate_open() && pool_loaded(d->o.pool);
}

/* One pass (4.2), then sync (4.4), then metrics (4.7). */
static void
sd_pass(struct sched_driver *d)
{
	int r;

	if (!sd_pass_runs(d))
		return;
	if (sd_input(d) != 0) {
		log_msgf(LOG_LVL_ERROR, "%s", "scheduler: out of memory building the views");
		return;
	}
	r = sched_pass(d->sched, &d->in, &d->pass);
	if (r != 0) {
		log_emit_err(LOG_LVL_ERROR, "scheduling pass failed", strerror(-r),
			     (const struct log_field[]){ LF_END });
		d->have_pass = false;
		return;
	}
	d->have_pass = true;
	d->passes++;
	if (sched_sync(&d->in, &d->sync) != 0) {
		log_msgf(LOG_LVL_ERROR, "%s", "scheduler: sync failed (out of memory)");
		sched_result_clear(&d->sync);
	}
	sd_execute(d, &d->pass);
	sd_execute(d, &d->sync);
	sd_metrics(d);
	if (d->pass.rearm_soon || d->sync.rearm_soon)
		uv_timer_start(&d->kick, sd_kick_cb, SD_REARM_MS, 0);
}

static void
sd_kick_cb(uv_timer_t *t)
{
	struct sched_driver *d = t->data;

	d->kick_pending = false;
	/* queue_entries: counted by sd_input when a pass runs, else by a walk of its own */
	if (!sd_pass_runs(d)) {
		sd_detach(d);
		sd_queue_metrics(d);
	}
	if (d->phase == SDP_STALE)
		stale_locks_check(d);
	else
		sd_pass(d);
}

static void
sd_tick_cb(uv_timer_t *t)
{
	sd_kick_cb(t);
}

void
sched_driver_kick(struct sched_driver *d)
{
	if (d == NULL || d->phase == SDP_CLOSED || d->phase == SDP_WAIT_POLL || d->kick_pending)
		return;
	d->kick_pending = true;
	uv_timer_start(&d->kick, sd_kick_cb, 0, 0);
}

void
sched_driver_poll_done(void *arg, bool ok)
{
	struct sched_driver *d = arg;

	if (!ok || d->phase != SDP_WAIT_POLL || !dispatch_gate_open())
		return;
	d->phase = SDP_STALE;
	stale_locks_begin(d);
}

void
sd_begin_run(struct sched_driver *d)
{
	d->phase = SDP_RUN;
	uv_timer_start(&d->tick, sd_tick_cb, d->o.tick_ms, d->o.tick_ms);
	sched_driver_kick(d);
}

int
sched_driver_new(const struct sched_driver_opts *o, struct sched_driver **out)
{
	struct sched_driver *d = calloc(1, sizeof(*d));
	int r;

	if (d == NULL)
		return -ENOMEM;
	d->o = *o;
	if (d->o.tick_ms == 0)
		d->o.tick_ms = 1000;
	if ((r = sched_new(o->cluster, &d->sched)) != 0) {
		free(d);
		return r;
	}
	sched_set_hourly_cap(d->sched, o->max_hourly_spend);
	sched_set_spot_fallback(d->sched, o->spot_fallback_after_attempts);
	sd_metrics_budget_cap(d);
	sched_result_init(&d->pass);
	sched_result_init(&d->sync);
	uv_timer_init(o->loop, &d->tick);
	uv_timer_init(o->loop, &d->kick);
	uv_timer_init(o->loop, &d->stale_timer);
	d->tick.data = d->kick.data = d->stale_timer.data = d;
	*out = d;
	return 0;
}

static void
sd_free(struct sched_driver *d)
{
	sched_result_free(&d->pass);
	sched_result_free(&d->sync);
	sched_free(d->sched);
	free(d->ctrs);
	free(d->detached);
	uuid_index_free(&d->ctr_index);
	free(d->worker_ids);
	free(d->wid_buf);
	free(d->workers);
	for (size_t i = 0; i < d->n_uncached; i++)
		free(d->uncached[i]);
	free(d->uncached);
	free(d->memo);
	free(d->memo_uuid);
	uuid_index_free(&d->memo_index);
	free(d->qcount);
	uuid_index_free(&d->run_index);
	free(d);
}

static void
sd_closed(uv_handle_t *h)
{
	struct sched_driver *d = h->data;

	if (--d->open_handles == 0)
		sd_free(d);
}

void
sched_driver_close(struct sched_driver *d)
{
	if (d == NULL)
		return;
	d->phase = SDP_CLOSED;
	d->open_handles = 3;
	uv_close((uv_handle_t *)&d->tick, sd_closed);
	uv_close((uv_handle_t *)&d->kick, sd_closed);
	uv_close((uv_handle_t *)&d->stale_timer, sd_closed);
}

void
sched_driver_stats(const struct sched_driver *d, struct sched_driver_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->scheduling = d->phase == SDP_RUN;
	s->passes = d->passes;
	for (size_t i = 0; i < d->n_ctrs && d->have_pass; i++) {
		switch (d->ctrs[i].state) {
		case SCHED_QUEUED:
			s->queued++;
			break;
		case SCHED_LOCKED:
			s->locked++;
			break;
		case SCHED_RUNNING:
			s->running++;
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < d->n_workers && d->have_pass; i++)
		if (d->worker_ids[i][0] != '\0')
			s->instances++;
}

bool
sched_driver_has_passed(const struct sched_driver *d)
{
	return d->have_pass;
}

static const char *
sd_ctr_key(const void *ctx, size_t i)
{
	const struct sched_driver *d = ctx;

	return d->ctrs[i].uuid;
}

void
sd_detach(struct sched_driver *d)
{
	if (d->detached == NULL && d->n_ctrs > 0) {
		if ((d->detached = malloc(d->n_ctrs * sizeof(*d->detached))) == NULL) {
			d->have_pass = false; /* nothing may point into the entries freed below */
			d->n_ctrs = 0;
		}
		for (size_t i = 0; i < d->n_ctrs; i++) {
			memcpy(d->detached[i], d->ctrs[i].uuid, QUEUE_UUID_MAX);
			d->ctrs[i].uuid = d->detached[i];
			d->ctrs[i].need = NULL; /* read by the pass and its decisions only */
		}
	}
	queue_reap(d->o.queue);
}

int
sched_driver_status(struct sched_driver *d, const char *uuid, char *buf, size_t len)
{
	char key[QUEUE_UUID_MAX] = { 0 };
	size_t n = d->n_ctrs < d->pass.n_status ? d->n_ctrs : d->pass.n_status;
	int64_t i;

	if (!d->have_pass || strlen(uuid) >= sizeof(key))
		return -ENOENT;
	memcpy(key, uuid, strlen(uuid));
	/* Built once per pass, at the first question: the management API asks for every
	 * container of the queue in turn (a scan each was quadratic at 100,000). */
	if (d->ctr_index_pass != d->passes + 1) {
		if (uuid_index_build(&d->ctr_index, d, sd_ctr_key, n) != 0)
			return -ENOMEM;
		d->ctr_index_pass = d->passes + 1;
	}
	if ((i = uuid_index_find(&d->ctr_index, d, sd_ctr_key, key)) < 0)
		return -ENOENT;
	struct queue_ent *e = queue_get(d->o.queue, key);
	struct sched_ctr c = d->ctrs[i];
	/* AT_CAPACITY names the candidate types: read them from the live entry. */
	c.types = e != NULL && e->fit == QFIT_OK ? e->choice->idx : NULL;
	c.n_types = e != NULL && e->fit == QFIT_OK ? e->choice->n : 0;
	return sched_status_format(d->o.cluster, &c, &d->pass.status[i], buf, len) < 0 ? -ENOSPC
										       : 0;
}
