/*
 * bench_sshpool.c - latency of typed operations on established sessions, and of one probe round
 * over N workers. Usage: bench_sshpool KEY RIG_DESC_JSON ITERATIONS. Prints "name median_ms" lines.
 * Run through sshpool_bench.py, which starts the workers.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "sess.h"
#include "sshpool.h"
#include "util.h"

struct w { char id[16], addr[64], secret_file[512]; int port; struct sess *s; };

static uv_loop_t *loop;
static int pending;

static void
done(int outcome, struct sess_result *r, void *arg)
{
	(void)arg;
	if (outcome != OPS_OK) {
		fprintf(stderr, "bench: operation failed: %d %s\n", outcome, r->error);
		exit(1);
	}
	pending--;
}

static void
drain(void)
{
	while (pending > 0)
		uv_run(loop, UV_RUN_ONCE);
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

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef int (*op_fn)(struct ops *o, struct sess *s);
static int op_boot(struct ops *o, struct sess *s) { return ops_boot_probe(o, s, done, NULL); }
static int op_list(struct ops *o, struct sess *s) { return ops_run_probe(o, s, NULL, 0, done, NULL); }

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
	printf("%s %.3f\n", name, median(v, iters));
	free(v);
}

int
main(int argc, char **argv)
{
	char why[256], *text, *pub;
	struct sess_opts so = { 0 };
	struct sess_pool *p;
	struct ops_conf oc = { .boot_probe_command = "true" };
	struct ops *o;
	struct w ws[256];
	int n = 0, iters;
	cJSON *d, *it;

	if (argc != 4)
		return 2;
	iters = atoi(argv[3]);
	loop = uv_default_loop();
	text = slurp(argv[1], NULL);
	if (sshpool_key_load(text, &so.key, &pub, why, sizeof(why)) != 0)
		return 1;
	so.max_connecting = 4;
	if (sess_pool_new(loop, &so, &p) != 0 || ops_new(&oc, &o, why, sizeof(why)) != 0)
		return 1;
	d = cJSON_Parse(slurp(argv[2], NULL));
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(d, "workers")) {
		if (n >= 256 || strcmp(cJSON_GetObjectItem(it, "kind")->valuestring, "openssh") != 0)
			continue;
		snprintf(ws[n].id, sizeof(ws[n].id), "%s", cJSON_GetObjectItem(it, "id")->valuestring);
		snprintf(ws[n].addr, sizeof(ws[n].addr), "%s", cJSON_GetObjectItem(it, "address")->valuestring);
		snprintf(ws[n].secret_file, sizeof(ws[n].secret_file), "%s",
			 cJSON_GetObjectItem(it, "secret_file")->valuestring);
		ws[n].port = cJSON_GetObjectItem(it, "port")->valueint;
		n++;
	}
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
	bench_one("sshpool_true_ms", o, ws[0].s, op_boot, iters);
	bench_one("sshpool_list_ms", o, ws[0].s, op_list, iters);
	{
		double *v = calloc((size_t)iters, sizeof(double));

		for (int r = 0; r < iters; r++) {
			struct timespec a, b;

			clock_gettime(CLOCK_MONOTONIC, &a);
			for (int i = 0; i < n; i++) {
				pending++;
				if (op_list(o, ws[i].s) != 0)
					return 1;
			}
			drain();
			clock_gettime(CLOCK_MONOTONIC, &b);
			v[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		}
		printf("sshpool_probe_round_%d_workers_ms %.3f\n", n, median(v, iters));
		free(v);
	}
	return 0;
}
