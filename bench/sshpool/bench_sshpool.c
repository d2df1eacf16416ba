/*
 * bench_sshpool.c - the sess/ops core of sshd-pool (the same library, in this process) against
 * rig workers. Usage: bench_sshpool KEY RIG_DESC_JSON ITERATIONS [openssh|dropbear].
 *
 * openssh (default): latency of typed operations on one established session, and one probe
 * round over every OpenSSH worker of the rig. dropbear: the scale bench of issue 4 over every
 * dropbear worker: the first round (connect + verify, dominated by key exchange CPU), then
 * ITERATIONS probe rounds (`crunch-run --list` on every worker, as the pool does each
 * ProbeInterval) on the established sessions, with this process's CPU time and RSS.
 * Prints "name value" lines. Run through sshpool_bench.py, which starts the workers.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_clock.h"
#include "bench_stats.h"
#include "ops.h"
#include "sess.h"
#include "sshpool.h"
#include "util.h"
#include "uv_wait.h"

struct w {
	char id[16], addr[64], secret_file[512];
	int port;
	struct sess *s;
};

static uv_loop_t *loop;
static int pending;
static int tolerate; /* scale mode: count failures instead of exiting at the first */
static int failures;

static void
done(int outcome, struct sess_result *r, void *arg)
{
	(void)arg;
	pending--;
	if (outcome == OPS_OK)
		return;
	if (failures++ < 5 || !tolerate)
		fprintf(stderr, "bench: operation failed: %d %s\n", outcome, r->error);
	if (!tolerate)
		exit(1);
}

static bool
none_pending(void *arg)
{
	(void)arg;
	return pending <= 0;
}

/* tests/support's wait: a bare UV_RUN_ONCE loop can sleep past the last answer (issue 18). */
static void
drain(void)
{
	if (uvw_run_until(loop, none_pending, NULL, 600 * 1000) != 0) {
		fprintf(stderr, "bench: %d operations still pending after 10 minutes\n", pending);
		exit(1);
	}
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = malloc(1 << 20);
	size_t n = f ? fread(b, 1, (1 << 20) - 1, f) : 0;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fclose(f);
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

/* Current resident set (VmRSS), KiB; -1 if unreadable. */
static long
rss_kib(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* Busy and total jiffies of the whole machine (/proc/stat "cpu" line): the probe round is mostly
 * the workers' CPU (fork, shell, crunch-run), not ours, and this shows how busy the cores were. */
static int
machine_jiffies(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int k = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7])
		  : 0;

	if (f)
		fclose(f);
	if (k < 5)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4]; /* minus idle and iowait */
	return 0;
}

/* Each session holds two descriptors (ours and libssh's dup); the default soft limit of 1024
 * would stop at about 500 workers. Raise the soft limit up to the hard one. */
static void
raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		fprintf(stderr, "bench: setrlimit(NOFILE, %lu): %s\n", (unsigned long)need,
			strerror(errno));
}

typedef int (*op_fn)(struct ops *o, struct sess *s);
static int
op_boot(struct ops *o, struct sess *s)
{
	return ops_boot_probe(o, s, done, NULL);
}
static int
op_list(struct ops *o, struct sess *s)
{
	return ops_run_probe(o, s, NULL, 0, false, done, NULL);
}

static void
bench_one(const char *name, struct ops *o, struct sess *s, op_fn fn, int iters)
{
	double *v = calloc((size_t)iters, sizeof(double));

	for (int i = 0; i < iters; i++) {
		uint64_t t0 = adc_now_ms();
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pending++;
		if (fn(o, s) != 0)
			exit(1);
		drain();
		clock_gettime(CLOCK_MONOTONIC, &b);
		v[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		(void)t0;
	}
	printf("%s %.3f\n", name, bench_median(v, (size_t)iters));
	free(v);
}

/* The run probe without and with the heartbeat, alternately on one session (the machine's drift
 * hits both alike): the two medians. */
static void
bench_heartbeat(struct ops *o, struct ops *ho, struct sess *s, int iters)
{
	double *v[2] = { calloc((size_t)iters, sizeof(double)),
			 calloc((size_t)iters, sizeof(double)) };

	for (int i = 0; i < 2 * iters; i++) {
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pending++;
		if (op_list(i % 2 ? ho : o, s) != 0)
			exit(1);
		drain();
		clock_gettime(CLOCK_MONOTONIC, &b);
		v[i % 2][i / 2] = (double)(b.tv_sec - a.tv_sec) * 1e3 +
				  (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	}
	printf("sshpool_list_alt_ms %.3f\n", bench_median(v[0], (size_t)iters));
	printf("sshpool_list_heartbeat_ms %.3f\n", bench_median(v[1], (size_t)iters));
	free(v[0]);
	free(v[1]);
}

/* Connect and verify every worker (the first round), then `iters` probe rounds. */
static int
bench_scale(struct sess_pool *p, struct ops *o, struct w *ws, int n, int iters)
{
	double *v = calloc((size_t)iters, sizeof(double));
	double t, c, first_ms, first_cpu, rounds_cpu;
	unsigned long long busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
	bool jok;

	raise_nofile((rlim_t)n * 2 + 256);
	tolerate = 1;
	t = now_ms();
	c = cpu_ms();
	for (int i = 0; i < n; i++) {
		size_t len;
		char *sec = slurp(ws[i].secret_file, &len);

		if (sess_get(p, ws[i].id, ws[i].addr, ws[i].port, "root", &ws[i].s) != 0)
			return 1;
		pending++;
		if (ops_verify(o, ws[i].s, (uint8_t *)sec, len, done, NULL) != 0)
			return 1;
		free(sec);
	}
	drain();
	first_ms = now_ms() - t;
	first_cpu = cpu_ms() - c;
	if (failures) {
		fprintf(stderr, "bench: %d of %d workers failed connect+verify\n", failures, n);
		return 1;
	}
	c = cpu_ms();
	jok = machine_jiffies(&busy0, &total0) == 0;
	for (int r = 0; r < iters; r++) {
		t = now_ms();
		for (int i = 0; i < n; i++) {
			pending++;
			if (op_list(o, ws[i].s) != 0)
				return 1;
		}
		drain();
		v[r] = now_ms() - t;
	}
	rounds_cpu = (cpu_ms() - c) / iters;
	jok = jok && machine_jiffies(&busy1, &total1) == 0 && total1 > total0;
	if (failures) {
		fprintf(stderr, "bench: %d probes failed over %d rounds of %d workers\n", failures,
			iters, n);
		return 1;
	}
	printf("workers %d\n", n);
	printf("first_round_ms %.1f\n", first_ms);
	printf("first_round_cpu_ms %.1f\n", first_cpu);
	double med = bench_median(v, (size_t)iters); /* sorts v: min first, max last */

	printf("probe_rounds %d\n", iters);
	printf("probe_round_min_ms %.1f\n", v[0]);
	printf("probe_round_median_ms %.1f\n", med);
	printf("probe_round_max_ms %.1f\n", v[iters - 1]);
	printf("probe_per_worker_ms %.3f\n", med / n);
	printf("probe_round_cpu_ms %.1f\n", rounds_cpu);
	if (jok)
		printf("probe_machine_busy_pct %.0f\n",
		       100.0 * (double)(busy1 - busy0) / (double)(total1 - total0));
	printf("rss_kib %ld\n", rss_kib());
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("maxrss_kib %ld\n", ru.ru_maxrss);
	}
	free(v);
	return 0;
}

int
main(int argc, char **argv)
{
	char why[256], *text, *pub;
	struct sess_opts so = { 0 };
	struct sess_pool *p;
	struct ops_conf oc = { .boot_probe_command = "true" };
	struct ops_conf hc = { .boot_probe_command = "true", .heartbeat = true };
	struct ops *o, *ho;
	struct w *ws;
	int n = 0, iters;
	const char *mode = argc > 4 ? argv[4] : "openssh";
	bool scale = strcmp(mode, "dropbear") == 0, heartbeat = strcmp(mode, "heartbeat") == 0;
	const char *kind = scale ? "dropbear" : "openssh";
	cJSON *d, *it;

	if (argc < 4 || argc > 5 || (!scale && !heartbeat && strcmp(mode, "openssh") != 0)) {
		fprintf(stderr, "usage: bench_sshpool KEY RIG_DESC_JSON ITERATIONS "
				"[openssh|dropbear|heartbeat]\n");
		return 2;
	}
	iters = atoi(argv[3]);
	if (iters < 1)
		return 2;
	loop = uv_default_loop();
	text = slurp(argv[1], NULL);
	if (sshpool_key_load(text, &so.key, &pub, why, sizeof(why)) != 0)
		return 1;
	/* The scale bench uses sshd-pool's own limits (8 handshakes at once, sess_opts_defaults). */
	so.max_connecting = scale ? 0 : 4;
	if (sess_pool_new(loop, &so, &p) != 0 || ops_new(&oc, &o, why, sizeof(why)) != 0 ||
	    ops_new(&hc, &ho, why, sizeof(why)) != 0)
		return 1;
	d = cJSON_Parse(slurp(argv[2], NULL));
	ws = calloc((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(d, "workers")) + 1, sizeof(*ws));
	if (ws == NULL)
		return 1;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(d, "workers"))
	{
		if (strcmp(cJSON_GetObjectItem(it, "kind")->valuestring, kind) != 0)
			continue;
		snprintf(ws[n].id, sizeof(ws[n].id), "%s",
			 cJSON_GetObjectItem(it, "id")->valuestring);
		snprintf(ws[n].addr, sizeof(ws[n].addr), "%s",
			 cJSON_GetObjectItem(it, "address")->valuestring);
		snprintf(ws[n].secret_file, sizeof(ws[n].secret_file), "%s",
			 cJSON_GetObjectItem(it, "secret_file")->valuestring);
		ws[n].port = cJSON_GetObjectItem(it, "port")->valueint;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "bench: no %s workers in %s\n", kind, argv[2]);
		return 1;
	}
	if (scale)
		return bench_scale(p, o, ws, n, iters);
	/* establish and verify every session (not measured) */
	for (int i = 0; i < n; i++) {
		size_t len;
		char *sec = slurp(ws[i].secret_file, &len);

		if (sess_get(p, ws[i].id, ws[i].addr, ws[i].port, "root", &ws[i].s) != 0)
			return 1;
		pending++;
		if (ops_verify(o, ws[i].s, (uint8_t *)sec, len, done, NULL) != 0)
			return 1;
		free(sec);
	}
	drain();
	if (heartbeat) { /* -deadman-timeout: the same probe with the heartbeat's touch in front */
		bench_heartbeat(o, ho, ws[0].s, iters);
		return 0;
	}
	bench_one("sshpool_true_ms", o, ws[0].s, op_boot, iters);
	bench_one("sshpool_list_ms", o, ws[0].s, op_list, iters);
	for (int hb = 0; hb < 2; hb++) {
		double *v = calloc((size_t)iters, sizeof(double));

		for (int r = 0; r < iters; r++) {
			struct timespec a, b;

			clock_gettime(CLOCK_MONOTONIC, &a);
			for (int i = 0; i < n; i++) {
				pending++;
				if (op_list(hb ? ho : o, ws[i].s) != 0)
					return 1;
			}
			drain();
			clock_gettime(CLOCK_MONOTONIC, &b);
			v[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 +
			       (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		}
		printf("sshpool_probe_round_%d_workers%s_ms %.3f\n", n, hb ? "_heartbeat" : "",
		       bench_median(v, (size_t)iters));
		free(v);
	}
	return 0;
}
