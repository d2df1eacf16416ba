/* ec2_pace.c - FIFO queues per category released by a uv_timer when tokens suffice. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_pace.h"

struct ec2_pace_w {
	double res;
	ec2_pace_cb cb;
	void *arg;
	struct ec2_pace_w *next;
};

struct ec2_pace_q {
	struct ec2_bucket req, res;
	bool has_res;
	struct ec2_pace_w *head, *tail;
};

struct ec2_pace {
	uv_loop_t *loop;
	uv_timer_t timer;
	bool enabled;
	double margin;
	struct ec2_pace_q q[EC2_PACE_NCAT];
};

/* Tokens are held back: the cloud takes them when a request arrives, not when it leaves here,
 * and arrival times jitter (a new TLS connection is slower than a reused one, a busy server
 * reads late). The reserve covers EC2_PACE_JITTER_S of refill (at least one token, never the
 * whole bucket); it costs only that much of the initial burst, nothing in steady state. */
#define EC2_PACE_JITTER_S 0.2

static void
ec2_bucket_init(struct ec2_bucket *b, double cap, double refill, uint64_t now)
{
	double reserve = ceil(refill * EC2_PACE_JITTER_S);

	if (reserve < 1)
		reserve = 1;
	if (reserve > cap - 1)
		reserve = cap - 1;
	b->capacity = cap >= 2 ? cap - reserve : cap;
	b->refill = refill;
	/* Full, less the reserve: the first refill clamps to capacity anyway, so starting at cap
	 * gave a burst of cap only to calls made within the same loop millisecond. */
	b->tokens = b->capacity;
	b->last_ms = now;
}

int
ec2_pace_new(uv_loop_t *loop, struct ec2_pace **out)
{
	struct ec2_pace *p = calloc(1, sizeof(*p));
	uint64_t now = uv_now(loop);

	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->enabled = true;
	p->margin = 0.99;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	ec2_bucket_init(&p->q[EC2_PACE_RUN].req, 5, 2, now);
	ec2_bucket_init(&p->q[EC2_PACE_RUN].res, 1000, 2, now);
	p->q[EC2_PACE_RUN].has_res = true;
	ec2_bucket_init(&p->q[EC2_PACE_TERMINATE].req, 100, 5, now);
	ec2_bucket_init(&p->q[EC2_PACE_TERMINATE].res, 1000, 20, now);
	p->q[EC2_PACE_TERMINATE].has_res = true;
	ec2_bucket_init(&p->q[EC2_PACE_MUTATE].req, 200, 10, now);
	ec2_bucket_init(&p->q[EC2_PACE_DESCRIBE].req, 100, 20, now);
	*out = p;
	return 0;
}

static void
ec2_pace_closed(uv_handle_t *h)
{
	free(h->data);
}

void
ec2_pace_free(struct ec2_pace *p)
{
	if (p)
		uv_close((uv_handle_t *)&p->timer, ec2_pace_closed);
}

void
ec2_pace_enable(struct ec2_pace *p, bool on)
{
	p->enabled = on;
}

void
ec2_pace_set_margin(struct ec2_pace *p, double margin)
{
	if (margin > 0 && margin <= 1)
		p->margin = margin;
}

void
ec2_pace_set(struct ec2_pace *p, enum ec2_pace_cat cat, double cap, double refill, double res_cap,
	     double res_refill)
{
	uint64_t now = uv_now(p->loop);

	ec2_bucket_init(&p->q[cat].req, cap, refill, now);
	if (p->q[cat].has_res)
		ec2_bucket_init(&p->q[cat].res, res_cap, res_refill, now);
}

enum ec2_pace_cat
ec2_pace_category(const char *action)
{
	if (strcmp(action, "RunInstances") == 0)
		return EC2_PACE_RUN;
	if (strcmp(action, "TerminateInstances") == 0)
		return EC2_PACE_TERMINATE;
	if (strncmp(action, "Describe", 8) == 0)
		return EC2_PACE_DESCRIBE;
	return EC2_PACE_MUTATE;
}

static void
ec2_bucket_fill(struct ec2_bucket *b, uint64_t now, double margin)
{
	if (now > b->last_ms) {
		b->tokens += (double)(now - b->last_ms) / 1000.0 * b->refill * margin;
		if (b->tokens > b->capacity)
			b->tokens = b->capacity;
		b->last_ms = now;
	}
}

/* ms until b holds need tokens (0 when it does now); UINT64_MAX when it never will. */
static uint64_t
ec2_bucket_wait(const struct ec2_bucket *b, double need, double margin)
{
	if (b->tokens >= need)
		return 0;
	if (need > b->capacity) { /* oversize: send when full, woken by our own timer */
		if (b->tokens >= b->capacity)
			return 0;
		need = b->capacity;
	}
	if (b->refill <= 0)
		return UINT64_MAX;
	return (uint64_t)ceil((need - b->tokens) * 1000.0 / (b->refill * margin));
}

static void ec2_pace_run(struct ec2_pace *p);

static void
ec2_pace_on_timer(uv_timer_t *t)
{
	ec2_pace_run(t->data);
}

/* Release every head whose buckets allow it, then arm the timer for the soonest next. */
static void
ec2_pace_run(struct ec2_pace *p)
{
	uint64_t now = uv_now(p->loop), soonest = UINT64_MAX;

	uv_update_time(p->loop);
	now = uv_now(p->loop);
	for (int c = 0; c < EC2_PACE_NCAT; c++) {
		struct ec2_pace_q *q = &p->q[c];

		while (q->head) {
			struct ec2_pace_w *w = q->head;
			uint64_t wr, ws = 0;

			ec2_bucket_fill(&q->req, now, p->margin);
			wr = ec2_bucket_wait(&q->req, 1, p->margin);
			if (q->has_res) {
				ec2_bucket_fill(&q->res, now, p->margin);
				ws = ec2_bucket_wait(&q->res, w->res, p->margin);
			}
			if (wr || ws) {
				uint64_t d = wr > ws ? wr : ws;

				if (d < soonest)
					soonest = d;
				break;
			}
			q->req.tokens -= 1;
			if (q->has_res)
				q->res.tokens -= w->res < q->res.tokens ? w->res : q->res.tokens;
			q->head = w->next;
			if (!q->head)
				q->tail = NULL;
			w->cb(w->arg);
			free(w);
		}
	}
	if (soonest != UINT64_MAX)
		uv_timer_start(&p->timer, ec2_pace_on_timer, soonest, 0);
}

int
ec2_pace_acquire(struct ec2_pace *p, enum ec2_pace_cat cat, double res, ec2_pace_cb cb, void *arg)
{
	struct ec2_pace_w *w;

	if (!p->enabled) {
		cb(arg);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->res = res;
	w->cb = cb;
	w->arg = arg;
	if (p->q[cat].tail)
		p->q[cat].tail->next = w;
	else
		p->q[cat].head = w;
	p->q[cat].tail = w;
	ec2_pace_run(p);
	return 0;
}

void
ec2_pace_throttled(struct ec2_pace *p, enum ec2_pace_cat cat)
{
	uint64_t now = uv_now(p->loop);

	p->q[cat].req.tokens = 0;
	p->q[cat].req.last_ms = now;
}
