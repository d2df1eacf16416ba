/*
 * bench_ec2_launch [N [REFILL_PER_S]] - launch N (default 2000) instances through the EC2
 * driver against fake_ec2 with throttling on, and compare the time with the minimum the
 * token buckets allow.
 *
 * The fake's RunInstances buckets are 5 + R/s requests and 1000 + R/s instances (AWS: R = 2;
 * the default here is R = 20 so a run takes ~100 s instead of ~17 min; pass 2 for AWS's
 * rates). The driver's pacer is told the same buckets, as it knows AWS's. Each Create is
 * one RunInstances call with MinCount = MaxCount = 1, as the dispatcher makes them.
 * Prints: elapsed, the bucket-limited minimum, the ratio, and throttled calls (goal: within
 * 5% of the minimum, 0 throttled). Then destroys them all as the pool now does (issue 16:
 * every instance shut down in one pass in one destroy call, up to 500 ids, i.e. one
 * TerminateInstances) and prints the cloud calls per 1,000 instances launched and destroyed,
 * counted by the fake, beside the minimum (one RunInstances each, one TerminateInstances per
 * 1000) and what one TerminateInstances per instance (before) would make.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_driver.h"
#include "harness.h"
#include "uv_wait.h"

struct bench {
	uv_loop_t loop;
	struct drv *d;
	struct drv_itype t;
	struct drv_tags tags;
	int want, started, ok, failed, in_flight, window;
	int throttled_answers;
	char (*ids)[32];
	int n_ids, destroyed;
};

static void bench_start_more(struct bench *b);

static bool
bench_idle(void *arg)
{
	return ((struct bench *)arg)->in_flight <= 0;
}

static void
bench_on_create(void *arg, const struct drv_error *e, const struct drv_instance *i)
{
	struct bench *b = arg;

	b->in_flight--;
	if (!e && i && i->id && b->n_ids < b->want)
		snprintf(b->ids[b->n_ids++], sizeof(b->ids[0]), "%s", i->id);
	if (e) {
		b->failed++;
		if (e->cls == DRV_ERR_RATE_LIMIT)
			b->throttled_answers++;
		if (b->failed <= 3)
			fprintf(stderr, "create failed: %s\n", e->text);
	} else {
		b->ok++;
	}
	bench_start_more(b);
}

/* Keeps a window of Creates queued in the driver; the pacer releases them at the bucket rate
 * (the dispatcher would not retry a rate-limited Create before EarliestRetry either). */
static void
bench_start_more(struct bench *b)
{
	while (b->in_flight < b->window && b->ok + b->in_flight < b->want && b->failed < 50) {
		if (b->d->ops->create(b->d, &b->t, "ami-0123456789abcdef0", &b->tags, "echo bench",
				      NULL, bench_on_create, b) < 0) {
			b->failed++;
			return;
		}
		b->in_flight++;
		b->started++;
	}
}

static double
bench_min_seconds(int n, double cap, double res_cap, double refill)
{
	double a = (n - cap) / refill, r = (n - res_cap) / refill;
	double m = a > r ? a : r;

	return m > 0 ? m : 0;
}

static int
bench_throttled_calls(struct fake *f)
{
	cJSON *j = fake_ctl(f, "GET", "/_fake/throttle", NULL);
	char *txt = cJSON_PrintUnformatted(j);
	const cJSON *t = cJSON_GetObjectItem(j, "throttled");
	int n = -1;

	if (cJSON_IsObject(t)) {
		const cJSON *r = cJSON_GetObjectItem(t, "RunInstances");

		n = cJSON_IsNumber(r) ? r->valueint : 0;
	} else if (cJSON_IsNumber(t)) {
		n = t->valueint;
	}
	if (getenv("BENCH_VERBOSE"))
		fprintf(stderr, "throttle state: %s\n", txt);
	free(txt);
	cJSON_Delete(j);
	return n;
}

static void
bench_on_destroy(void *arg, size_t n, const char *const *ids, const struct drv_error *errs)
{
	struct bench *b = arg;

	(void)ids;
	b->in_flight--;
	for (size_t i = 0; i < n; i++) {
		b->destroyed += errs[i].cls == DRV_OK;
		if (errs[i].cls != DRV_OK && i == 0)
			fprintf(stderr, "destroy failed: %s\n", errs[i].text);
	}
}

/* Requests the fake logged for an action. */
static int
bench_calls(struct fake *f, const char *action)
{
	char path[128];
	cJSON *j;
	int n;

	snprintf(path, sizeof(path), "/_fake/requests?action=%s", action);
	j = fake_ctl(f, "GET", path, NULL);
	n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests"));
	cJSON_Delete(j);
	return n;
}

static void
bench_keepalive(uv_timer_t *t)
{
	(void)t;
}

/* The pool's POOL_DESTROY_BATCH: half of TerminateInstances' 1,000 (docs/POOL.md). */
#define BENCH_DESTROY_BATCH 500

/* Destroys every launched instance in calls of up to 500 ids; prints calls per 1,000. */
static void
bench_destroy_all(struct bench *b, struct fake *f)
{
	int runs, terms, n = b->n_ids;
	double per, min, before;
	uv_timer_t keep; /* the driver's pacer timer does not keep the loop alive by itself */

	uv_timer_init(&b->loop, &keep);
	uv_timer_start(&keep, bench_keepalive, 100, 100);

	for (int i = 0; i < n; i += BENCH_DESTROY_BATCH) {
		const char *v[BENCH_DESTROY_BATCH];
		int k = n - i < BENCH_DESTROY_BATCH ? n - i : BENCH_DESTROY_BATCH;

		for (int j = 0; j < k; j++)
			v[j] = b->ids[i + j];
		if (b->d->ops->destroy(b->d, v, (size_t)k, bench_on_destroy, b) == 0)
			b->in_flight++;
	}
	while (b->in_flight > 0)
		uv_run(&b->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&keep, NULL);
	uv_run(&b->loop, UV_RUN_NOWAIT);
	runs = bench_calls(f, "RunInstances");
	terms = bench_calls(f, "TerminateInstances");
	if (n <= 0)
		return;
	per = 1000.0 * (runs + terms) / n;
	min = 1000.0 * (n + (n + 999) / 1000) / n;
	before = 1000.0 * (runs + n) / n;
	printf("ec2 calls: %d launched, %d destroyed: RunInstances %d + TerminateInstances %d = "
	       "%.1f calls per 1,000 instances launched and destroyed (minimum %.1f, ratio %.3f; "
	       "one TerminateInstances per instance, before issue 16: %.1f)\n",
	       n, b->destroyed, runs, terms, per, min, per / min, before);
}

int
main(int argc, char **argv)
{
	static const char *const args[] = { "--subnet-cidr", "subnet-bench=127.16.0.0/20",
					    "--throttle", NULL };
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	double refill = argc > 2 ? atof(argv[2]) : 20;
	struct ec2_driver_opts o = { 0 };
	struct bench b = { 0 };
	struct fake f;
	char body[400];
	uint64_t t0, t1;
	double secs, min;
	int throttled;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (n <= 0 || n > 4000 || refill <= 0) {
		fprintf(stderr, "usage: bench_ec2_launch [N<=4000 [REFILL_PER_S]]\n");
		return 2;
	}
	if (fake_start(&f, NULL, args) < 0) {
		fprintf(stderr, "cannot start fake_ec2\n");
		return 1;
	}
	snprintf(body, sizeof(body),
		 "{\"enabled\":true,\"refill\":true,\"reset_counters\":true,\"buckets\":{"
		 "\"RunInstances\":{\"capacity\":5,\"refill_per_second\":%g},"
		 "\"RunInstances:resource\":{\"capacity\":1000,\"refill_per_second\":%g}}}",
		 refill, refill);
	fake_ctl0(&f, "POST", "/_fake/throttle", body);
	uv_loop_init(&b.loop);
	b.d = drv_for(&b.loop, &f, "{\"SubnetID\":\"subnet-bench\"}", &o);
	if (!b.d) {
		fake_stop(&f);
		return 1;
	}
	ec2_pace_set(ec2_driver_pace(b.d), EC2_PACE_RUN, 5, refill, 1000, refill);
	b.t.name = "m5.large";
	b.t.price = 0.1;
	drv_tags_add(&b.tags, "ArvadosInstanceSetID", "bench");
	b.want = n;
	b.window = 64;
	if ((b.ids = calloc((size_t)n, sizeof(*b.ids))) == NULL)
		return 1;
	uv_update_time(&b.loop);
	t0 = uv_hrtime();
	bench_start_more(&b);
	/* tests/support's wait: a bare UV_RUN_ONCE loop can sleep past the last answer (issue 18) */
	if (uvw_run_until(&b.loop, bench_idle, &b, 1800 * 1000) != 0) {
		fprintf(stderr, "bench: %d Creates still in flight after 30 minutes\n",
			b.in_flight);
		return 1;
	}
	t1 = uv_hrtime();
	secs = (double)(t1 - t0) / 1e9;
	min = bench_min_seconds(n, 5, 1000, refill);
	throttled = bench_throttled_calls(&f);
	printf("ec2 launch: %d instances (%d failed Creates) in %.2f s; bucket-limited minimum "
	       "%.2f s "
	       "(RunInstances 5 + %g/s, instances 1000 + %g/s); ratio %.3f; throttled calls %d "
	       "(driver saw %d)\n",
	       b.ok, b.failed, secs, min, refill, refill, min > 0 ? secs / min : 0.0, throttled,
	       b.throttled_answers);
	bench_destroy_all(&b, &f);
	free(b.ids);
	drv_tags_free(&b.tags);
	drv_done_free(&b.loop, b.d);
	uv_loop_close(&b.loop);
	fake_stop(&f);
	return b.ok == n ? 0 : 1;
}
