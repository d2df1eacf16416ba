/*
 * sched_fallback.c - spot to on-demand fallback (an addition beyond the reference,
 * -spot-fallback-price-factor and -spot-fallback-after-attempts; docs/SCHEDULER.md): which
 * candidate types a preemptible container uses this pass. Its on-demand fallback candidates
 * (listed by the instance-type choice after its preemptible ones, already cut at the
 * operator's price factor) are used when every preemptible candidate is at capacity and no
 * preemptible instance can take it, or once its earlier dispatch attempts reach the limit.
 * A container that fell back keeps to it (the loop remembers SCHED_D_FALLBACK) while it stays
 * in the queue, so that a returning spot capacity does not leave the on-demand instance booting
 * for it idle while a spot one is created too.
 */
#include "sched_pass.h"

void
sched_set_spot_fallback(struct sched *s, unsigned after_attempts)
{
	s->fallback_after = after_attempts;
}

int64_t
sched_pass_available(const struct sched_pass *x, const uint32_t *types, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (x->in->type_at_capacity == NULL || !x->in->type_at_capacity[types[i]])
			return types[i];
	return -1;
}

static bool
sched_preemptible(const struct sched_pass *x, uint32_t type)
{
	return x->s->cl->instance_types[type].preemptible;
}

/* The fallback in force before this pass looks at capacity: remembered, or by attempts. */
static uint8_t
sched_fallback_standing(const struct sched_pass *x, const struct sched_ctr *c)
{
	if (c->n_fallback == 0)
		return SCHED_FB_NONE;
	uint8_t fell_back = sched_memo_of(x->in, c)->fell_back;

	if (fell_back != SCHED_FB_NONE)
		return fell_back;
	if (x->s->fallback_after > 0 && c->attempts >= x->s->fallback_after)
		return SCHED_FB_ATTEMPTS;
	return SCHED_FB_NONE;
}

void
sched_pass_pick(struct sched_pass *x, const struct sched_ctr *c, struct sched_pick *p)
{
	const uint32_t *od = c->types + c->n_types;
	uint32_t np = c->n_types, no = c->n_fallback;

	*p = (struct sched_pick){ .avail = -1, .fb = sched_fallback_standing(x, c) };
	switch (p->fb) {
	case SCHED_FB_ATTEMPTS:
		/* The operator wants it off spot: on-demand instances only. */
		p->best = sched_pass_best(x, od, no, c->need, &p->bt, &p->bj);
		p->avail = sched_pass_available(x, od, no);
		return;
	case SCHED_FB_CAPACITY:
		/* Any instance of either list (they are contiguous: preemptible, then on-demand);
		 * a new one on-demand first, spot again only when that is at capacity too (then
		 * its status is the plain one: it is not on an on-demand type). */
		p->best = sched_pass_best(x, c->types, np + no, c->need, &p->bt, &p->bj);
		p->avail = sched_pass_available(x, od, no);
		if (p->avail < 0)
			p->avail = sched_pass_available(x, c->types, np);
		if (p->best ? sched_preemptible(x, p->bt)
			    : p->avail >= 0 && sched_preemptible(x, (uint32_t)p->avail))
			p->fb = SCHED_FB_NONE;
		return;
	default:
		break;
	}
	p->best = sched_pass_best(x, c->types, np, c->need, &p->bt, &p->bj);
	if (p->best || (p->avail = sched_pass_available(x, c->types, np)) >= 0 || no == 0)
		return;
	/* Every preemptible candidate is at capacity and no preemptible instance can take it:
	 * an on-demand instance, if one can be had (else it waits as without the fallback). */
	p->best = sched_pass_best(x, od, no, c->need, &p->bt, &p->bj);
	p->avail = sched_pass_available(x, od, no);
	if (p->best || p->avail >= 0)
		p->fb = SCHED_FB_CAPACITY;
}

int
sched_fallback_note(struct sched_pass *x, size_t ci, uint8_t fb)
{
	if (fb == SCHED_FB_NONE ||
	    sched_memo_of(x->in, &x->in->ctrs[ci])->fell_back != SCHED_FB_NONE)
		return 0;
	return sched_result_push(
		x->out, (struct sched_decision){ .kind = SCHED_D_FALLBACK,
						 .reason = fb == SCHED_FB_CAPACITY
								   ? SCHED_R_FALLBACK_CAPACITY
								   : SCHED_R_FALLBACK_ATTEMPTS,
						 .ctr = (int32_t)ci,
						 .worker = -1 });
}

struct sched_status
sched_fallback_status(uint8_t code, uint8_t fb, uint32_t type)
{
	if (fb == SCHED_FB_NONE)
		return (struct sched_status){ .code = code, .type = type };
	return (struct sched_status){ .code = code == SCHED_ST_PREPARING
						      ? SCHED_ST_FALLBACK_PREPARING
						      : SCHED_ST_FALLBACK_NEW,
				      .n = fb,
				      .type = type };
}

struct sched_status
sched_fallback_at_capacity(struct sched_pass *x, uint8_t fb)
{
	if (fb == SCHED_FB_NONE)
		return (struct sched_status){ .code = SCHED_ST_AT_CAPACITY, .n = ++x->qpos };
	return (struct sched_status){ .code = SCHED_ST_FALLBACK_AT_CAPACITY,
				      .n = ++x->qpos,
				      .type = fb };
}
