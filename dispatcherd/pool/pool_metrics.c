/*
 * pool_metrics.c - the pool's metrics (section 8). Gauges are recomputed on every pool
 * on_change wake-up and (fix, weakness 13) at every probe tick, so probe ages are never older than
 * one ProbeInterval. (Not a scrape hook: the registry cannot drop a hook, and it may outlive
 * the pool.)
 * The pool counts driver_operations itself: it is the only caller of the cloud port.
 */
#include "pool_internal.h"

#include <stdlib.h>
#include <string.h>

#include "metrics_catalog.h"

static struct metric_family *
pool_fam(struct pool *p, const char *name)
{
	return p->o.metrics ? metrics_find(p->o.metrics, name) : NULL;
}

void
pool_metrics_observe(struct pool *p, struct metric_family *f, const char *label, double v)
{
	(void)p;
	if (f)
		metrics_observe(f, label ? (const char *const[]){ label } : NULL, v);
}

static const char *const cats[] = { "inuse", "hold", "booting", "unknown", "idle" };

static int
pool_category(const struct pool_worker *w)
{
	if (w->n_run > 0)
		return 0;
	if (w->idle == SCHED_IDLE_HOLD)
		return 1;
	if (w->state == SCHED_W_BOOTING)
		return 2;
	if (w->state == SCHED_W_UNKNOWN)
		return 3;
	return 4;
}

static int
pool_i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
pool_metrics_ages(struct pool *p, int64_t now)
{
	int64_t *t = calloc(p->n_workers + 1, sizeof(*t));
	double max = 0, med = 0;

	if (!t)
		return;
	for (size_t i = 0; i < p->n_workers; i++)
		t[i] = p->workers[i]->probed;
	if (p->n_workers) {
		qsort(t, p->n_workers, sizeof(*t), pool_i64_cmp);
		max = (double)(now - t[0]) / 1e9;
		med = (double)(now - t[p->n_workers / 2]) / 1e9;
	}
	free(t);
	if (p->m_age_max)
		metrics_set(p->m_age_max, NULL, max);
	if (p->m_age_med)
		metrics_set(p->m_age_med, NULL, med);
}

void
pool_metrics_update(struct pool *p)
{
	double price[5] = { 0 }, vcpus[5] = { 0 }, mem[5] = { 0 };
	size_t running = 0;

	if (!p->o.metrics)
		return;
	if (p->m_total)
		metrics_zero_all(p->m_total);
	for (size_t i = 0; i < p->n_workers; i++) {
		const struct pool_worker *w = p->workers[i];
		const struct cfg_instance_type *it = pool_itype(p, w);
		int c = pool_category(w);

		running += w->n_run;
		if (p->m_total)
			metrics_add(
				p->m_total,
				(const char *const[]){ cats[c], w->type_name ? w->type_name : "" },
				1);
		price[c] += it ? it->price : 0;
		vcpus[c] += it ? (double)it->vcpus : 0;
		mem[c] += it ? (double)it->ram : 0;
	}
	for (int c = 0; c < 5; c++) {
		const char *const l[] = { cats[c] };

		if (p->m_price)
			metrics_set(p->m_price, l, price[c]);
		if (p->m_vcpus)
			metrics_set(p->m_vcpus, l, vcpus[c]);
		if (p->m_mem)
			metrics_set(p->m_mem, l, mem[c]);
	}
	if (p->m_running)
		metrics_set(p->m_running, NULL, (double)running);
	if (p->m_at_quota)
		metrics_set(p->m_at_quota, NULL, pool_at_quota(p) ? 1 : 0);
	pool_metrics_ages(p, pool_now(p));
}

void
pool_metrics_init(struct pool *p)
{
	if (!p->o.metrics)
		return;
	p->m_ops = pool_fam(p, MET_PREFIX "driver_operations");
	p->m_boot = pool_fam(p, MET_PREFIX "boot_outcomes");
	p->m_disappeared = pool_fam(p, MET_PREFIX "instances_disappeared");
	p->m_ssh = pool_fam(p, MET_PREFIX "instances_time_to_ssh_seconds");
	p->m_ready = pool_fam(p, MET_PREFIX "instances_time_to_ready_for_container_seconds");
	p->m_gone = pool_fam(p, MET_PREFIX
			     "instances_time_from_shutdown_request_to_disappearance_seconds");
	p->m_q2cr = pool_fam(p, MET_PREFIX "containers_time_from_queue_to_crunch_run_seconds");
	p->m_probe_dur = pool_fam(p, MET_PREFIX "instances_run_probe_duration_seconds");
	p->m_running = pool_fam(p, MET_CONTAINERS_RUNNING);
	p->m_age_max = pool_fam(p, MET_PREFIX "probe_age_seconds_max");
	p->m_age_med = pool_fam(p, MET_PREFIX "probe_age_seconds_median");
	p->m_total = pool_fam(p, MET_INSTANCES_TOTAL);
	p->m_price = pool_fam(p, MET_PREFIX "instances_price");
	p->m_vcpus = pool_fam(p, MET_PREFIX "vcpus_total");
	p->m_mem = pool_fam(p, MET_PREFIX "memory_bytes_total");
	p->m_at_quota = pool_fam(p, MET_AT_QUOTA);
	p->m_spot = pool_fam(p, MET_SPOT_INTERRUPTIONS); /* only with -spot-interruption-notices */
}
