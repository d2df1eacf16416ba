/*
 * bench_sched.c - time one scheduling pass (sched_pass) on synthetic data: 1k/10k/100k queued
 * containers x 100/1k/10k instances, in process.
 *
 * World: 24 types (1-24 VCPUs, 4 GiB RAM per VCPU), MaximumPriceFactor 1.5, MaxInstances twice
 * the instances present. Instances: 60% running 1-3 containers, 20% idle, 10% booting, 10%
 * unknown. Queue: 1-8 VCPUs, 20% Locked, priorities 1-1000, 2% supervisors. Every pass sees
 * the same input (the pass is pure), so the time is that of a pass over that state.
 * Prints the median per pass over several passes, and the number of decisions. Time is the
 * thread's CPU time: the pass is single-threaded and does no I/O, so on an idle machine that
 * is its wall time, and on these shared 2-vCPU machines (load 2-7 from other work) it leaves
 * out the time spent waiting for a CPU, which made wall-clock medians vary by 2x.
 * BENCH_CLOCK=wall in the environment times wall-clock time instead.
 * "churn": the same, but between two passes (untimed) 1% of the queued containers get a new
 * priority, so the order kept from the last pass is no longer sorted and the steady-state
 * reuse does not flatter the figure.
 * Usage: bench_sched [passes [queued instances]]   (default 7 passes, every size)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_stats.h"
#include "instance_types.h"
#include "scheduler.h"

#define NTYPES 24
#define GiB    ((int64_t)1 << 30)

static uint64_t rng = 88172645463325252u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(bench_clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct world {
	struct cfg_cluster cl;
	struct cfg_instance_type types[NTYPES];
	char names[NTYPES][16];
	struct itypes_table *tt;
	struct sched_ctr *c;
	struct itypes_choice *ch;
	char (*uuid)[28];
	size_t nc;
	struct sched_worker *w;
	struct sched_wrun *runs;
	size_t nw;
};

static void
make_types(struct world *x)
{
	for (int i = 0; i < NTYPES; i++) {
		snprintf(x->names[i], sizeof(x->names[i]), "t%02d", i + 1);
		x->types[i] = (struct cfg_instance_type){
			.name = x->names[i],
			.provider_type = x->names[i],
			.vcpus = i + 1,
			.ram = (int64_t)(i + 1) * 4 * GiB,
			.scratch = (int64_t)(i + 1) * 50 * GiB,
			.price = 0.05 * (i + 1),
			.gpu = { .driver_version = "", .hardware_target = "" },
		};
	}
	x->cl.instance_types = x->types;
	x->cl.n_instance_types = NTYPES;
	x->cl.containers.maximum_price_factor = 1.5;
	x->cl.containers.cloudvms.supervisor_fraction = 0.3;
	if (itypes_table_new(&x->cl, &x->tt) != 0)
		abort();
}

static size_t
add_ctr(struct world *x, enum sched_cstate st, int64_t vcpus)
{
	size_t i = x->nc++;
	struct sched_ctr *c = &x->c[i];
	struct ctres r;

	ctres_init(&r);
	r.vcpus = vcpus;
	r.ram = vcpus * 2 * GiB;
	if (itypes_choose(x->tt, &r, &x->ch[i], NULL, 0) != 0)
		abort();
	snprintf(x->uuid[i], sizeof(x->uuid[i]), "zzzzz-dz642-%015zu", i);
	*c = (struct sched_ctr){
		.uuid = x->uuid[i],
		.state = st,
		.priority = 1 + rnd(1000),
		.first_seen = (sched_time)i,
		.created_at = (sched_time)i,
		.need = &x->ch[i].need,
		.types = x->ch[i].idx,
		.n_types = x->ch[i].n,
		.supervisor = rnd(50) == 0,
	};
	return i;
}

static void
make_world(struct world *x, size_t nq, size_t ni)
{
	size_t cap = nq + 3 * ni;

	x->c = calloc(cap, sizeof(*x->c));
	x->ch = calloc(cap, sizeof(*x->ch));
	x->uuid = calloc(cap, sizeof(*x->uuid));
	x->w = calloc(ni, sizeof(*x->w));
	x->runs = calloc(3 * ni, sizeof(*x->runs));
	if (!x->c || !x->ch || !x->uuid || !x->w || !x->runs)
		abort();
	x->cl.containers.cloudvms.max_instances = (int64_t)(2 * ni);
	for (size_t i = 0; i < ni; i++) {
		struct sched_worker *w = &x->w[x->nw++];
		uint32_t kind = rnd(10);
		char *id = x->uuid[0]; /* placeholder, replaced below */

		(void)id;
		*w = (struct sched_worker){ .type = 3 + rnd(NTYPES - 3), .run = &x->runs[3 * i] };
		w->state = kind < 6   ? SCHED_W_RUNNING
			   : kind < 8 ? SCHED_W_IDLE
			   : kind < 9 ? SCHED_W_BOOTING
				      : SCHED_W_UNKNOWN;
		for (uint32_t k = 0; w->state == SCHED_W_RUNNING && k < 1 + rnd(3); k++) {
			size_t ci = add_ctr(x, SCHED_RUNNING, 1 + rnd(2));

			x->c[ci].in_running = true;
			x->runs[3 * i + w->n_run++] = (struct sched_wrun){ .uuid = x->c[ci].uuid,
									   .need = *x->c[ci].need,
									   .need_known = true };
		}
	}
	for (size_t i = 0; i < nq; i++)
		add_ctr(x, rnd(5) == 0 ? SCHED_LOCKED : SCHED_QUEUED, 1 + rnd(8));
}

static char (*ids)[24];

static void
name_workers(struct world *x)
{
	ids = calloc(x->nw, sizeof(*ids));
	if (ids == NULL)
		abort();
	for (size_t i = 0; i < x->nw; i++) {
		snprintf(ids[i], sizeof(ids[i]), "i-%017zx", (i * 2654435761u) % 100000007u);
		x->w[i].id = ids[i];
	}
}

static void
free_world(struct world *x)
{
	for (size_t i = 0; i < x->nc; i++)
		itypes_choice_free(&x->ch[i]);
	itypes_table_free(x->tt);
	free(x->c);
	free(x->ch);
	free(x->uuid);
	free(x->w);
	free(x->runs);
	free(ids);
}

/* Give 1% of the queued containers (those after the running ones) a new priority. */
static void
churn(struct world *x, size_t nq)
{
	size_t first = x->nc - nq;

	for (size_t k = 0; k < nq / 100; k++)
		x->c[first + rnd((uint32_t)nq)].priority = 1 + rnd(1000);
}

static double
timed_passes(struct world *x, struct sched *s, struct sched_result *r, const struct sched_input *in,
	     size_t nq, int passes, bool changing)
{
	uint64_t *t = calloc((size_t)passes, sizeof(*t));
	double ms;

	if (t == NULL)
		abort();
	for (int p = 0; p < passes; p++) {
		uint64_t t0;

		if (changing)
			churn(x, nq);
		t0 = now_ns();
		if (sched_pass(s, in, r) != 0)
			abort();
		t[p] = now_ns() - t0;
	}
	ms = bench_median_u64(t, (size_t)passes) / 1e6;
	free(t);
	return ms;
}

static void
run(size_t nq, size_t ni, int passes)
{
	struct world x;
	struct sched *s;
	struct sched_result r;
	struct sched_input in;
	double steady, changing;
	size_t nd;

	memset(&x, 0, sizeof(x));
	make_types(&x);
	make_world(&x, nq, ni);
	name_workers(&x);
	if (sched_new(&x.cl, &s) != 0)
		abort();
	sched_result_init(&r);
	in = (struct sched_input){ .cluster = &x.cl,
				   .now = (sched_time)1 << 40,
				   .ctrs = x.c,
				   .n_ctrs = x.nc,
				   .workers = x.w,
				   .n_workers = x.nw };
	steady = timed_passes(&x, s, &r, &in, nq, passes, false);
	nd = r.n;
	changing = timed_passes(&x, s, &r, &in, nq, passes, true);
	printf("queued %6zu x instances %5zu (+%5zu running): median %8.3f ms/pass (churn %8.3f),"
	       " %zu decisions\n",
	       nq, ni, x.nc - nq, steady, changing, nd);
	sched_result_free(&r);
	sched_free(s);
	free_world(&x);
}

int
main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 7;
	const char *clk = getenv("BENCH_CLOCK");
	const size_t q[] = { 1000, 10000, 100000 }, inst[] = { 100, 1000, 10000 };

	if (passes < 1)
		passes = 1;
	if (clk != NULL && strcmp(clk, "wall") == 0)
		bench_clock = CLOCK_MONOTONIC;
	printf("time: %s\n", bench_clock == CLOCK_MONOTONIC ? "wall clock" : "thread CPU time");
	if (argc > 3) {
		run(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), passes);
		return 0;
	}
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			run(q[i], inst[j], passes);
	return 0;
}
