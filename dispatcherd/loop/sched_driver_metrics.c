/* sched_driver_metrics.c - the scheduler's metrics (spec 8, 4.7): the per-pass gauges, and
 * queue_entries{state,instance_type} recomputed from the queue on every wake-up (a queue
 * on_change or the tick), before the pass: counted into a small state x type table
 * (during sd_input's walk of the view when a pass runs, no label lookup per container), then
 * one set per non-zero cell after every previously seen series is reset to 0, as the
 * reference does. */
#include "sched_driver_internal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics_catalog.h"

/* instance_type label: the first candidate's name; "" for an entry without candidates in a
 * state other than Queued/Locked (the reference would index an empty list there). */
void
sd_queue_count(struct sched_driver *d, const struct queue_ent *e)
{
	const struct cfg_cluster *cl = d->o.cluster;
	size_t nt = d->n_qcount / SD_STATES, t = nt - 1;

	/* The reference adds an entry only once its mounts are fetched and, when Queued or
	 * Locked, only when some type fits: count the same entries. */
	if (d->qcount == NULL || e->fit == QFIT_PENDING ||
	    (e->fit == QFIT_NONE && (e->state == QST_QUEUED || e->state == QST_LOCKED)))
		return;
	if (e->fit == QFIT_OK && e->choice->n > 0 && e->choice->idx[0] < cl->n_instance_types)
		t = e->choice->idx[0];
	if ((unsigned)e->state < SD_STATES)
		d->qcount[(size_t)e->state * nt + t]++;
}

/* An empty table for sd_queue_count; false when there is nothing to count into. */
bool
sd_queue_count_begin(struct sched_driver *d)
{
	const struct cfg_cluster *cl = d->o.cluster;
	size_t n;

	if (d->o.metrics == NULL || cl == NULL ||
	    metrics_find(d->o.metrics, MET_PREFIX "queue_entries") == NULL)
		return false;
	n = SD_STATES * (cl->n_instance_types + 1); /* last column: no candidate */
	if (n != d->n_qcount) {
		size_t *c = realloc(d->qcount, n * sizeof(*c));

		if (c == NULL)
			return false;
		d->qcount = c;
		d->n_qcount = n;
	}
	memset(d->qcount, 0, n * sizeof(*d->qcount));
	return true;
}

/* queue_entries from the counted table: every previously seen series reset to 0, then one
 * set per non-zero cell. */
void
sd_queue_count_publish(struct sched_driver *d)
{
	const struct cfg_cluster *cl = d->o.cluster;
	struct metric_family *f = metrics_find(d->o.metrics, MET_PREFIX "queue_entries");
	size_t nt = d->n_qcount / SD_STATES;

	if (f == NULL || d->qcount == NULL)
		return;
	metrics_zero_all(f);
	for (size_t s = 1; s < SD_STATES; s++)
		for (size_t t = 0; t < nt; t++) {
			size_t c = d->qcount[s * nt + t];

			if (c == 0)
				continue;
			metrics_set(f,
				    (const char *const[]){ queue_state_name((enum queue_state)s),
							   t < nt - 1 ? cl->instance_types[t].name
								      : "" },
				    (double)c);
		}
}

/* queue_entries by a walk of its own, for wake-ups that run no pass (the pass counts during
 * sd_input's walk of the view: one walk of 100,000 entries instead of two). */
void
sd_queue_metrics(struct sched_driver *d)
{
	struct queue_ent *const *v;
	size_t n;

	if (d->o.queue == NULL || !sd_queue_count_begin(d))
		return;
	v = queue_view(d->o.queue, &n);
	for (size_t i = 0; i < n; i++)
		sd_queue_count(d, v[i]);
	sd_queue_count_publish(d);
}

/* The cap is known before the first pass (which waits for 2.9): show it from the start. */
void
sd_metrics_budget_cap(struct sched_driver *d)
{
	struct metric_family *f;

	if (d->o.metrics != NULL && (f = metrics_find(d->o.metrics, MET_HOURLY_SPEND_CAP)) != NULL)
		metrics_set(f, NULL, d->o.max_hourly_spend);
}

void
sd_metrics(struct sched_driver *d)
{
	struct metrics_registry *m = d->o.metrics;
	const struct sched_result *r = &d->pass;
	struct metric_family *f;

	if (m == NULL)
		return;
	if ((f = metrics_find(m, MET_PREFIX "containers_allocated_not_started")) != NULL)
		metrics_set(f, NULL, (double)r->allocated_not_started);
	if ((f = metrics_find(m, MET_PREFIX "containers_not_allocated_over_quota")) != NULL)
		metrics_set(f, NULL, (double)r->not_allocated_over_quota);
	if ((f = metrics_find(m, MET_PREFIX "max_concurrent_containers")) != NULL)
		metrics_set(f, NULL, (double)r->max_concurrent_containers);
	if ((f = metrics_find(m, MET_PREFIX "containers_longest_wait_time_seconds")) != NULL)
		metrics_set(f, NULL, (double)r->longest_wait / 1e9);
	/* sched_time is Unix ns; 0 when no 503 was ever seen */
	if ((f = metrics_find(m, MET_PREFIX "last_503_time")) != NULL)
		metrics_set(f, NULL, r->last_503 > 0 ? (double)(r->last_503 / 1000000000) : 0);
	/* Registered only with -max-hourly-spend (metrics_catalog.c). */
	if ((f = metrics_find(m, MET_HOURLY_SPEND)) != NULL)
		metrics_set(f, NULL, r->hourly_spend);
	if ((f = metrics_find(m, MET_HOURLY_SPEND_CAP)) != NULL)
		metrics_set(f, NULL, r->hourly_cap);
}
