/*
 * mgmt_bench_helper.c - the two halves of bench/mgmt:
 *   render N      time metrics_render_text over the section 8 catalogue plus N instance gauges
 *   serve TOKEN F  run the management server on 127.0.0.1:0 (plus the same N=10,000 gauges)
 *                  with a synthetic pool of 10,000 instances behind the providers (each
 *                  /arvados/v1/dispatch/instances builds the 10,000 views as the pool does:
 *                  one cJSON object of the 5.1 fields per worker, sorted by instance id),
 *                  write the port to F, serve until killed
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "metrics_catalog.h"
#include "mgmt_api.h"

static struct metrics_registry *
make_registry(int n)
{
	struct metrics_registry *r = metrics_new();
	struct metrics_catalog_init in = { .version = "bench", .process = true };
	const char *lb[] = { "instance", "instance_type" };
	if (!r || metrics_catalog_register(r, &in) < 0)
		exit(1);
	struct metric_family *g = metrics_register(r, METRIC_GAUGE, "bench_instance_up",
						   "synthetic per-instance gauge", 2, lb);
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "i-%016x", (unsigned)(i * 2654435761u));
		const char *v[] = { id, i % 2 ? "m5large" : "t3small" };
		if (metrics_set(g, v, i % 7) < 0)
			exit(1);
	}
	return r;
}

static int
render(int n)
{
	uint64_t t0 = uv_hrtime();
	struct metrics_registry *r = make_registry(n);
	uint64_t t1 = uv_hrtime();
	int rounds = 50;
	size_t len = 0;
	for (int i = 0; i < rounds; i++) {
		char *t;
		if (metrics_render_text(r, &t, &len) < 0)
			return 1;
		free(t);
	}
	uint64_t t2 = uv_hrtime();
	printf("registry build (%d series): %.1f ms\n", n, (double)(t1 - t0) / 1e6);
	printf("render text: %.2f ms per scrape, %zu bytes (mean of %d)\n",
	       (double)(t2 - t1) / 1e6 / rounds, len, rounds);
	cJSON *j = metrics_render_json(r);
	uint64_t t3 = uv_hrtime();
	cJSON_Delete(j);
	printf("render json: %.2f ms (one scrape)\n", (double)(t3 - t2) / 1e6);
	metrics_free(r);
	return 0;
}

#define BENCH_INSTANCES 10000

struct bench_pool {
	char id[BENCH_INSTANCES][24], addr[BENCH_INSTANCES][20], ctr[BENCH_INSTANCES][32];
};

static int
bench_id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static struct bench_pool *
bench_pool_new(void)
{
	struct bench_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		exit(1);
	for (unsigned i = 0; i < BENCH_INSTANCES; i++) {
		snprintf(p->id[i], sizeof(p->id[i]), "i-%016x", i * 2654435761u);
		snprintf(p->addr[i], sizeof(p->addr[i]), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
			 i & 255);
		snprintf(p->ctr[i], sizeof(p->ctr[i]), "zzzzz-dz642-%015u", i);
	}
	qsort(p->id, BENCH_INSTANCES, sizeof(p->id[0]), bench_id_cmp);
	return p;
}

/* The pool's list_instances, with the pool's per-request work: a fresh cJSON view per worker. */
static int
bench_list_instances(void *ctx, cJSON **items)
{
	struct bench_pool *p = ctx;
	cJSON *a = cJSON_CreateArray();

	if (a == NULL)
		return -1;
	for (unsigned i = 0; i < BENCH_INSTANCES; i++) {
		cJSON *o = cJSON_CreateObject(), *u = cJSON_CreateArray();
		bool busy = i % 3 != 0;

		cJSON_AddStringToObject(o, "instance", p->id[i]);
		cJSON_AddStringToObject(o, "address", p->addr[i]);
		cJSON_AddNumberToObject(o, "price", 0.096);
		cJSON_AddStringToObject(o, "arvados_instance_type", "m5large");
		cJSON_AddStringToObject(o, "provider_instance_type", "m5.large");
		cJSON_AddStringToObject(o, "last_container_uuid", p->ctr[i]);
		cJSON_AddStringToObject(o, "last_busy", "2025-01-13T15:20:21.775019617Z");
		if (busy)
			cJSON_AddItemToArray(u, cJSON_CreateString(p->ctr[i]));
		cJSON_AddItemToObject(o, "running_container_uuids", u);
		cJSON_AddStringToObject(o, "worker_state", busy ? "running" : "idle");
		cJSON_AddStringToObject(o, "idle_behavior", "run");
		cJSON_AddItemToArray(a, o);
	}
	*items = a;
	return 0;
}

static int
serve(const char *token, const char *portfile)
{
	log_init("mgmt_bench", LOG_FMT_TEXT, LOG_LVL_ERROR);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		return 1;
	static struct mgmt_providers pool = { .list_instances = bench_list_instances };
	struct http_server *s;
	struct http_server_opts o = { .loop = uv_default_loop(), .listen_fd = fd,
				      .management_token = token, .metrics = make_registry(10000) };
	pool.ctx = bench_pool_new();
	if (http_server_start(&o, &s) < 0 || mgmt_api_register(s, &pool) < 0)
		return 1;
	FILE *f = fopen(portfile, "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "render"))
		return render(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	fprintf(stderr, "usage: %s render N | serve TOKEN PORTFILE\n", argv[0]);
	return 2;
}
