/*
 * sched_budget.c - the budget cap (an addition beyond the reference, -max-hourly-spend): the
 * hourly spend of the instances is the sum of their prices (the current spot price when the
 * pool knows it, else the type's configured Price); an instance is created only when the spend
 * plus the new instance's Price stays within the cap (an instance being shut down counts until
 * it is gone, as the cloud bills it), and while the spend is above the cap
 * (the dispatcher was restarted with a lower one) idle instances are shut down, most expensive
 * first. Running containers are never touched: an instance with anything placed on it, running
 * or starting, is not idle. Everything is computed from the pass's input: no extra cloud call.
 */
#include <math.h>

#include "sched_pass.h"

/* Comparisons tolerate float noise: a cap of exactly two instances' prices admits both. */
#define SCHED_BUDGET_EPS 1e-9

void
sched_set_hourly_cap(struct sched *s, double dollars)
{
	s->hourly_cap = isfinite(dollars) && dollars > 0 ? dollars : 0;
}

static double
sched_type_price(const struct sched *s, uint32_t type)
{
	return type < s->cl->n_instance_types ? s->cl->instance_types[type].price : 0;
}

/* What an instance costs per hour now (a pending create: its type's Price). */
static double
sched_worker_price(const struct sched *s, const struct sched_worker *w)
{
	return w->price > 0 ? w->price : sched_type_price(s, w->type);
}

/* An instance being shut down is billed until it is gone: it counts against new creates
 * (the cap holds for what the cloud runs), but shedding already took it off. */
void
sched_budget_start(struct sched_pass *x)
{
	x->spend = x->spend_going = 0;
	for (size_t w = 0; w < x->in->n_workers; w++) {
		double p = sched_worker_price(x->s, &x->in->workers[w]);

		x->spend += p;
		if (x->in->workers[w].state == SCHED_W_SHUTDOWN)
			x->spend_going += p;
	}
}

/* Once a create met the cap, the rest of the pass creates nothing: a cheaper instance for a
 * later container would otherwise take the budget the queue's head waits for. */
bool
sched_budget_allows(struct sched_pass *x, uint32_t type)
{
	double cap = x->s->hourly_cap;

	if (cap <= 0)
		return true;
	if (!x->budget_blocked && x->spend + sched_type_price(x->s, type) > cap + SCHED_BUDGET_EPS)
		x->budget_blocked = true;
	return !x->budget_blocked;
}

void
sched_budget_charge(struct sched_pass *x, uint32_t type)
{
	x->spend += sched_type_price(x->s, type);
}

static uint32_t
sched_millidollars(double v)
{
	double m = round(v * 1000);

	return m <= 0 ? 0 : m >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

struct sched_status
sched_budget_status(const struct sched_pass *x)
{
	return (struct sched_status){ .code = SCHED_ST_AT_BUDGET,
				      .n = sched_millidollars(x->spend),
				      .type = sched_millidollars(x->s->hourly_cap) };
}

/* An instance the cap may shed: has an ID, idle, not held, nothing placed on it this pass. */
static bool
sched_budget_sheddable(const struct sched_pass *x, size_t w)
{
	const struct sched_worker *wk = &x->in->workers[w];

	return wk->id != NULL && wk->id[0] != '\0' && wk->state == SCHED_W_IDLE &&
	       wk->idle != SCHED_IDLE_HOLD && wk->n_run == 0 && x->s->wl[w] == 0;
}

/* Whether (pa, a) comes before (pb, b) in shedding order: dearest first, then input order. */
static bool
sched_budget_before(double pa, size_t a, double pb, size_t b)
{
	return pa > pb || (pa == pb && a < b);
}

/*
 * Shed idle instances, most expensive first, until the spend is within the cap. No allocation:
 * each round picks the next in shedding order after the last one shed (a few per pass).
 */
int
sched_budget_shutdowns(struct sched_pass *x)
{
	double last_p = INFINITY;
	size_t last_w = 0;
	bool first = true;
	int rc = 0;

	while (rc == 0 && x->s->hourly_cap > 0 &&
	       x->spend - x->spend_going > x->s->hourly_cap + SCHED_BUDGET_EPS) {
		double best_p = -1;
		size_t best = x->in->n_workers;

		for (size_t w = 0; w < x->in->n_workers; w++) {
			double p = sched_worker_price(x->s, &x->in->workers[w]);

			if (!sched_budget_sheddable(x, w) ||
			    (!first && !sched_budget_before(last_p, last_w, p, w)))
				continue;
			if (best == x->in->n_workers || sched_budget_before(p, w, best_p, best)) {
				best_p = p;
				best = w;
			}
		}
		if (best == x->in->n_workers)
			break;
		rc = sched_result_push(x->out, (struct sched_decision){ .kind = SCHED_D_SHUTDOWN,
									.ctr = -1,
									.worker = (int32_t)best });
		x->spend -= best_p;
		last_p = best_p;
		last_w = best;
		first = false;
	}
	return rc;
}
