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
 * 5% of the minimum, 0 throttled).
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

	(void)i;
	b->in_flight--;
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
	drv_tags_free(&b.tags);
	drv_done_free(&b.loop, b.d);
	uv_loop_close(&b.loop);
	fake_stop(&f);
	return b.ok == n ? 0 : 1;
}
