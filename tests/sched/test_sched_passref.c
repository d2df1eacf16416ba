/*
 * test_sched_passref.c - whole passes of the real scheduler against a reference that differs
 * only in its placement index: the same pass sources compiled again (ref_pass.c) with a
 * brute-force linear scan for the best instance (ref_index.c). Random configs, queues and
 * pools, several passes each with the queue and the pool changing in between; every
 * decision, status and metric must be identical. The real scheduler keeps its state from pass
 * to pass (queue order, worker order, trees); the reference starts each pass afresh but for
 * the 4.3 state, so what is reused across passes is checked too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sched_fixture.h"

int ref_sched_new(const struct cfg_cluster *cl, struct sched **out);
void ref_sched_free(struct sched *s);
int ref_sched_pass(struct sched *s, const struct sched_input *in, struct sched_result *out);
struct sched_quota *ref_sched_quota_state(struct sched *s);
void ref_sched_set_spot_fallback(struct sched *s, unsigned after_attempts);

#define MAXC   700
#define MAXW   240
#define MAXRUN 24

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct world {
	struct fx_world *f;
	struct sched *ref;
	struct sched_result rr;
	struct sched_ctr c[MAXC];
	struct itypes_choice ch[MAXC];
	struct sched_memo memo[MAXC];
	char uuid[MAXC][24];
	size_t nc;
	struct sched_worker w[MAXW];
	struct sched_wrun run[MAXW][MAXRUN];
	char wid[MAXW][24];
	size_t nw;
	bool at_cap[32];
	struct sched_input in;
	bool spot;	/* some types preemptible, the spot fallback on */
	unsigned after; /* its -spot-fallback-after-attempts */
};

static void
random_config(struct world *x, int round)
{
	uint32_t mask = (rnd(1u << 16) << 1) | (1u << (round % 2 ? 16 : 4));
	int64_t mi = rnd(3) == 0 ? 0 : 1 + rnd(300);
	struct cfg_cloudvms *vm;

	x->f = fx_new(mask, 1.0 + rnd(30) / 4.0, mi);
	vm = &x->f->cl->containers.cloudvms;
	/* Unlimited or large per-instance limits let instances collect many containers. */
	vm->max_running_containers_per_instance = rnd(3) == 0 ? 0 : 1 + rnd(40);
	vm->max_concurrent_instance_create_ops = rnd(2) ? 0 : 1 + rnd(12);
	vm->initial_quota_estimate = rnd(4) == 0 ? 1 + rnd(100) : 0;
	vm->supervisor_fraction = rnd(3) == 0 ? 0 : 0.1 * (1 + rnd(5));
	x->f->cl->containers.local_keep_blob_buffers_per_vcpu = rnd(3);
	fx_resched(x->f);
	assert_int_equal(ref_sched_new(x->f->cl, &x->ref), 0);
	sched_result_init(&x->rr);
	/* Half the worlds: the spot fallback (its queries on the on-demand types go through the
	 * index too). */
	x->spot = rnd(2) == 0;
	if (x->spot) {
		x->after = rnd(4);
		for (size_t t = 0; t < x->f->cl->n_instance_types; t++)
			x->f->cl->instance_types[t].preemptible = rnd(3) == 0;
		itypes_table_set_spot_fallback(x->f->tt, 1 + rnd(8) / 2.0);
		sched_set_spot_fallback(x->f->s, x->after);
		ref_sched_set_spot_fallback(x->ref, x->after);
	}
}

static void
random_ctr(struct world *x, size_t i, sched_time now)
{
	struct sched_ctr *c = &x->c[i];
	struct ctres r;
	uint32_t k = rnd(10);

	ctres_init(&r);
	r.vcpus = rnd(3) ? 1 + rnd(2) : rnd(9);
	r.ram = (int64_t)(1 + rnd(8)) * 128 * FX_MiB;
	r.preemptible = x->spot && rnd(2) == 0;
	memset(c, 0, sizeof(*c));
	if (itypes_choose(x->f->tt, &r, &x->ch[i], NULL, 0) == 0) {
		c->types = x->ch[i].idx;
		c->n_types = x->ch[i].n;
		c->n_fallback = (uint8_t)x->ch[i].n_fallback;
	}
	c->need = &x->ch[i].need;
	/* Half without a memory at all (memo 0), as most containers in the loop's input. */
	x->memo[i] = (struct sched_memo){ 0 };
	c->memo = rnd(2) == 0 ? (uint32_t)i + 1 : 0;
	if (x->spot) {
		c->attempts = (uint8_t)rnd(5);
		x->memo[i].fell_back = rnd(6) == 0 ? (uint8_t)(1 + rnd(2)) : 0;
	}
	snprintf(x->uuid[i], sizeof(x->uuid[i]), "zzzzz-dz642-%09zu", i);
	c->uuid = x->uuid[i];
	c->state = k < 5   ? SCHED_QUEUED
		   : k < 8 ? SCHED_LOCKED
		   : k < 9 ? SCHED_RUNNING
			   : (enum sched_cstate)(SCHED_COMPLETE + rnd(3));
	c->priority = rnd(8) == 0 ? 0 : 1 + rnd(6); /* many ties */
	c->first_seen = rnd(50);
	c->created_at = now - (sched_time)rnd(1000) * SCHED_SECOND;
	c->supervisor = rnd(12) == 0;
	c->op_in_flight = rnd(10) == 0;
	c->in_running = c->state == SCHED_RUNNING ? rnd(6) != 0 : rnd(12) == 0;
	c->exited = c->in_running && rnd(5) == 0;
	c->exit_time = c->exited ? now - (sched_time)rnd(30) * SCHED_SECOND : 0;
	c->runner_present = rnd(10) == 0;
	x->memo[i].overquota_unlocked_at = rnd(6) == 0 ? now - (sched_time)rnd(600) * SCHED_SECOND
						       : 0;
	x->memo[i].cancel_tried_at = rnd(6) == 0 ? now - (sched_time)rnd(120) * SCHED_SECOND : 0;
}

static void
random_worker(struct world *x, size_t i)
{
	struct sched_worker *w = &x->w[i];
	uint32_t nrun = rnd(3) == 0 ? 0 : rnd(rnd(4) == 0 ? MAXRUN : 5);

	if (rnd(10) == 0)
		x->wid[i][0] = '\0'; /* a pending create */
	else
		snprintf(x->wid[i], sizeof(x->wid[i]), "i-%04u", rnd(500)); /* duplicates too */
	*w = (struct sched_worker){
		.id = x->wid[i],
		.type = rnd((uint32_t)x->f->cl->n_instance_types),
		.state = (enum sched_wstate)rnd(5),
		.idle = rnd(8) == 0 ? (enum sched_idle)(1 + rnd(2)) : SCHED_IDLE_RUN,
		.run = x->run[i],
		.last_busy = 0,
	};
	for (uint32_t k = 0; k < nrun && x->nc > 0; k++) {
		const struct sched_ctr *c = &x->c[rnd((uint32_t)x->nc)];

		x->run[i][w->n_run++] = (struct sched_wrun){ .uuid = c->uuid,
							     .need = *c->need,
							     .need_known = rnd(25) != 0 };
	}
}

static void
random_input(struct world *x)
{
	sched_time now = 100000 * SCHED_SECOND;
	bool big = rnd(4) == 0;

	x->nc = rnd(big ? MAXC : 80);
	for (size_t i = 0; i < x->nc; i++)
		random_ctr(x, i, now);
	x->nw = rnd(big ? MAXW : 40);
	for (size_t i = 0; i < x->nw; i++)
		random_worker(x, i);
	for (size_t t = 0; t < 32; t++)
		x->at_cap[t] = rnd(5) == 0;
	x->in = (struct sched_input){
		.cluster = x->f->cl,
		.now = now,
		.ctrs = x->c,
		.n_ctrs = x->nc,
		.memos = x->memo,
		.n_memos = x->nc,
		.workers = x->w,
		.n_workers = x->nw,
		.quota_hold = rnd(6) == 0,
		.type_at_capacity = rnd(3) == 0 ? x->at_cap : NULL,
		.create_throttled = rnd(6) == 0,
		.runner_unavailable = rnd(10) == 0,
		.api_last_503 = rnd(4) == 0 ? now - (sched_time)rnd(120) * SCHED_SECOND : 0,
	};
}

/* Between passes: some priorities and states change, workers move, time moves on. */
static void
change_input(struct world *x)
{
	if (x->nw > 1 && rnd(2) == 0) {
		size_t a = rnd((uint32_t)x->nw), b = rnd((uint32_t)x->nw);
		struct sched_worker w = x->w[a];

		x->w[a] = x->w[b];
		x->w[b] = w;
	}
	if (x->nw > 0 && rnd(3) == 0) {
		size_t a = rnd((uint32_t)x->nw);

		snprintf(x->wid[a], sizeof(x->wid[a]), "i-%04u", rnd(500));
		x->w[a].id = x->wid[a];
		x->w[a].state = (enum sched_wstate)rnd(5);
	}
	for (size_t k = 0; x->nc > 0 && k < 1 + x->nc / 20; k++) {
		struct sched_ctr *c = &x->c[rnd((uint32_t)x->nc)];

		if (rnd(3) == 0)
			c->state = c->state == SCHED_QUEUED ? SCHED_LOCKED : SCHED_QUEUED;
		else
			c->priority = rnd(7);
	}
	x->in.now += (sched_time)rnd(100) * SCHED_SECOND;
	x->in.quota_hold = rnd(6) == 0;
}

static void
same_result(const struct sched_result *a, const struct sched_result *b, size_t nc)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct sched_decision *p = &a->d[i], *q = &b->d[i];

		assert_int_equal(p->kind, q->kind);
		assert_int_equal(p->reason, q->reason);
		assert_int_equal(p->ctr, q->ctr);
		assert_int_equal(p->worker, q->worker);
		assert_int_equal(p->type, q->type);
		assert_ptr_equal(p->uuid, q->uuid);
		assert_int_equal(p->keep_buffers, q->keep_buffers);
	}
	assert_int_equal(a->n_status, nc);
	assert_int_equal(b->n_status, nc);
	for (size_t i = 0; i < nc; i++) {
		assert_int_equal(a->status[i].code, b->status[i].code);
		assert_int_equal(a->status[i].n, b->status[i].n);
		assert_int_equal(a->status[i].type, b->status[i].type);
	}
	assert_int_equal(a->rearm_soon, b->rearm_soon);
	assert_int_equal(a->allocated_not_started, b->allocated_not_started);
	assert_int_equal(a->not_allocated_over_quota, b->not_allocated_over_quota);
	assert_int_equal(a->max_concurrent_containers, b->max_concurrent_containers);
	assert_int_equal(a->longest_wait, b->longest_wait);
	assert_int_equal(a->last_503, b->last_503);
}

static void
free_world(struct world *x)
{
	for (size_t i = 0; i < MAXC; i++)
		itypes_choice_free(&x->ch[i]);
	sched_result_free(&x->rr);
	ref_sched_free(x->ref);
	fx_free(x->f);
}

static void
random_passes(void **unused)
{
	struct world *x = calloc(1, sizeof(*x));
	size_t placed = 0, decisions = 0, fallbacks = 0;

	(void)unused;
	assert_non_null(x);
	for (int round = 0; round < 300; round++) {
		random_config(x, round);
		random_input(x);
		for (int pass = 0; pass < 4; pass++) {
			struct sched *fresh;
			int rc;

			assert_int_equal(ref_sched_new(x->f->cl, &fresh), 0);
			*ref_sched_quota_state(fresh) = *ref_sched_quota_state(x->ref);
			ref_sched_set_spot_fallback(fresh, x->after);
			ref_sched_free(x->ref);
			x->ref = fresh;
			rc = sched_pass(x->f->s, &x->in, &x->f->r);

			assert_int_equal(ref_sched_pass(x->ref, &x->in, &x->rr), rc);
			if (rc == 0)
				same_result(&x->f->r, &x->rr, x->nc);
			assert_memory_equal(sched_quota_state(x->f->s),
					    ref_sched_quota_state(x->ref),
					    sizeof(struct sched_quota));
			for (size_t i = 0; i < x->f->r.n; i++) {
				placed += x->f->r.d[i].kind == SCHED_D_START;
				fallbacks += x->f->r.d[i].kind == SCHED_D_FALLBACK;
			}
			decisions += x->f->r.n;
			change_input(x);
		}
		free_world(x);
		memset(x, 0, sizeof(*x));
	}
	/* The random worlds must actually place containers, or the comparison proves little. */
	assert_true(placed > 1000);
	assert_true(decisions > 5000);
	printf("passref: %zu starts, %zu decisions, %zu spot fallbacks\n", placed, decisions,
	       fallbacks);
	assert_true(fallbacks > 100);
	free(x);
}

/*
 * A candidate type index out of range is an error when the walk reaches the container, and
 * only then (the flag is computed up front, the check stays where the walk is).
 */
static void
bad_type_index(void **unused)
{
	struct fx_world *f = fx_new(0x1fffe, 1.5, 10);
	static const uint32_t bad[] = { 0, 99 };
	int a, b;

	(void)unused;
	a = fx_ctr(f, "a", SCHED_QUEUED, 5, 1, FX_GiB);
	b = fx_ctr(f, "b", SCHED_QUEUED, 1, 1, FX_GiB);
	f->c[b].types = bad;
	f->c[b].n_types = 2;
	assert_int_equal(fx_pass(f), -EINVAL);
	/* At quota with no instance, the scan stops at "a", before "b". */
	f->in.quota_hold = true;
	assert_int_equal(fx_pass(f), 0);
	assert_int_equal(f->r.status[a].code, SCHED_ST_AT_QUOTA);
	/* In R, "b" is still walked, and still an error. */
	f->c[b].in_running = true;
	assert_int_equal(fx_pass(f), -EINVAL);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_passes),
		cmocka_unit_test(bad_type_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
