/*
 * mgmt_bench_helper.c - the two halves of bench/mgmt:
 *   render N      time metrics_render_text over the section 8 catalogue plus N instance gauges
 *   serve TOKEN F  run the management server on 127.0.0.1:0 (plus the same N=10,000 gauges)
 *                  with a synthetic pool of 10,000 instances behind the providers (each
 *                  /arvados/v1/dispatch/instances builds the 10,000 views as the pool does:
 *                  one cJSON object of the 5.1 fields per worker, sorted by instance id),
 *                  and a synthetic queue of 100,000 containers (each
 *                  /arvados/v1/dispatch/containers builds the 100,000 queue entries as
 *                  mgmt_wiring.c does: the queue's own container object
 *                  (queue_ent_container_json over entries made by queue_ent_detached_new),
 *                  instance_resources, one instance type (pool_itype_json), first_seen_at,
 *                  status),
 *                  write the port to F, serve until killed. GET /bench/stats returns the
 *                  server's loop-time figures (http_server_stats) and resets them.
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
#include "pool.h"
#include "queue.h"

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

static cJSON *bench_instance_view(struct bench_pool *p, unsigned i);

/* The pool's list_instances, with the pool's per-request work: a fresh cJSON view per worker. */
static int
bench_list_instances(void *ctx, cJSON **items)
{
	struct bench_pool *p = ctx;
	cJSON *a = cJSON_CreateArray();

	if (a == NULL)
		return -1;
	for (unsigned i = 0; i < BENCH_INSTANCES; i++)
		cJSON_AddItemToArray(a, bench_instance_view(p, i));
	*items = a;
	return 0;
}

static cJSON *
bench_instance_view(struct bench_pool *p, unsigned i)
{
	{
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
		return o;
	}
}

#define BENCH_CONTAINERS 100000
#define BENCH_IDENTITY	 "zzzzz-gj3su-000000000000000"

/* The synthetic queue: entries built from API container records by the queue's own code
 * (queue_ent_detached_new), rendered per request by the queue's own code
 * (queue_ent_container_json), as mgmt_wiring.c does for the real queue. */
static struct queue_ent *bench_queue[BENCH_CONTAINERS];
static struct cfg_instance_type bench_type = { .name = "m5large",
					       .provider_type = "m5.large",
					       .vcpus = 2,
					       .ram = 8589934592LL,
					       .added_scratch = 10000000000LL,
					       .scratch = 10000000000LL,
					       .price = 0.096 };

/* Container i as the API server sends it (the attributes the queue keeps). */
static cJSON *
bench_container_record(unsigned i)
{
	char uuid[32];
	cJSON *c = cJSON_CreateObject(), *rc, *g, *sp;

	snprintf(uuid, sizeof(uuid), "zzzzz-dz642-%015u", i);
	cJSON_AddStringToObject(c, "uuid", uuid);
	cJSON_AddStringToObject(c, "created_at", "2025-01-13T15:20:21.775019617Z");
	cJSON_AddStringToObject(c, "container_image", "d41d8cd98f00b204e9800998ecf8427e+0");
	cJSON_AddStringToObject(c, "locked_by_uuid", i % 2 ? BENCH_IDENTITY : "");
	cJSON_AddNumberToObject(c, "priority", 1000 - i % 1000);
	cJSON_AddStringToObject(c, "state", i % 2 ? "Locked" : "Queued");
	rc = cJSON_AddObjectToObject(c, "runtime_constraints");
	cJSON_AddBoolToObject(rc, "API", false);
	cJSON_AddNumberToObject(rc, "ram", 268435456);
	cJSON_AddNumberToObject(rc, "vcpus", 1 + i % 4);
	cJSON_AddNumberToObject(rc, "keep_cache_ram", 0);
	cJSON_AddNumberToObject(rc, "keep_cache_disk", 2147483648.0);
	g = cJSON_AddObjectToObject(rc, "gpu");
	cJSON_AddStringToObject(g, "stack", "");
	cJSON_AddStringToObject(g, "driver_version", "");
	cJSON_AddNullToObject(g, "hardware_target");
	cJSON_AddNumberToObject(g, "device_count", 0);
	cJSON_AddNumberToObject(g, "vram", 0);
	sp = cJSON_AddObjectToObject(c, "scheduling_parameters");
	cJSON_AddNullToObject(sp, "partitions");
	cJSON_AddBoolToObject(sp, "preemptible", false);
	cJSON_AddNumberToObject(sp, "max_run_time", 0);
	cJSON_AddBoolToObject(sp, "supervisor", false);
	return c;
}

static void
bench_queue_new(void)
{
	for (unsigned i = 0; i < BENCH_CONTAINERS; i++) {
		cJSON *rec = bench_container_record(i);

		bench_queue[i] = rec ? queue_ent_detached_new(rec, i % 2 != 0) : NULL;
		cJSON_Delete(rec);
		if (bench_queue[i] == NULL)
			exit(1);
	}
}

/* One queue entry of the 7.2 shape: the queue's container object, then the wrapper of
 * mgmt_wiring_entry (its instance type through the pool's pool_itype_json). */
static cJSON *
bench_container_entry(unsigned i)
{
	cJSON *o = cJSON_CreateObject(), *res, *t;

	cJSON_AddItemToObject(o, "container",
			      queue_ent_container_json(bench_queue[i], BENCH_IDENTITY));
	res = cJSON_AddObjectToObject(o, "instance_resources");
	cJSON_AddNumberToObject(res, "VCPUs", 1 + i % 4);
	cJSON_AddNumberToObject(res, "RAM", 805306368);
	cJSON_AddNumberToObject(res, "Scratch", 2147483648.0);
	cJSON_AddNumberToObject(res, "GPUs", 0);
	cJSON_AddNumberToObject(res, "GPUVRAM", 0);
	t = cJSON_AddArrayToObject(o, "instance_types");
	cJSON_AddItemToArray(t, pool_itype_json(&bench_type));
	cJSON_AddStringToObject(o, "first_seen_at", "2025-01-13T15:20:21.775000000Z");
	cJSON_AddStringToObject(o, "scheduling_status",
				i % 2 ? "" : "waiting for a suitable instance");
	return o;
}

static int
bench_list_containers(void *ctx, cJSON **items)
{
	(void)ctx;
	cJSON *a = cJSON_CreateArray();

	for (unsigned i = 0; a && i < BENCH_CONTAINERS; i++)
		cJSON_AddItemToArray(a, bench_container_entry(i));
	*items = a;
	return a ? 0 : -1;
}

/* The incremental forms, as the pool and the queue provide them: a snapshot of keys in one
 * turn, then each entry built on its own. */
static int
bench_open_instances(void *ctx, void **snap, size_t *n)
{
	(void)ctx;
	*snap = NULL;
	*n = BENCH_INSTANCES;
	return 0;
}

static int
bench_open_containers(void *ctx, void **snap, size_t *n)
{
	(void)ctx;
	*snap = NULL;
	*n = BENCH_CONTAINERS;
	return 0;
}

static int
bench_instance_entry(void *ctx, void *snap, size_t i, cJSON **out)
{
	(void)snap;
	*out = bench_instance_view(ctx, (unsigned)i);
	return *out ? 0 : -1;
}

static int
bench_container_entry_src(void *ctx, void *snap, size_t i, cJSON **out)
{
	(void)ctx, (void)snap;
	*out = bench_container_entry((unsigned)i);
	return *out ? 0 : -1;
}

static void
bench_close(void *ctx, void *snap)
{
	(void)ctx, (void)snap;
}

static int
bench_stats(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct http_server_stats st;
	cJSON *o = cJSON_CreateObject();

	(void)r;
	http_server_stats(*(struct http_server **)ctx, &st, true);
	cJSON_AddNumberToObject(o, "max_turn_ms", (double)st.max_turn_ns / 1e6);
	cJSON_AddNumberToObject(o, "total_ms", (double)st.total_ns / 1e6);
	cJSON_AddNumberToObject(o, "turns", (double)st.turns);
	return http_respond_json(w, 200, o);
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
	static struct mgmt_providers pool = { .list_instances = bench_list_instances,
					      .list_containers = bench_list_containers };
	/* MGMT_BENCH_ONESHOT=1: the one-shot providers only (rendering in one turn per miss). */
	if (!getenv("MGMT_BENCH_ONESHOT")) {
		pool.instances_src = (struct mgmt_list_src){ bench_open_instances,
							     bench_instance_entry, bench_close };
		pool.containers_src = (struct mgmt_list_src){ bench_open_containers,
							      bench_container_entry_src,
							      bench_close };
	}
	static struct http_server *s;
	struct http_server_opts o = { .loop = uv_default_loop(),
				      .listen_fd = fd,
				      .management_token = token,
				      .metrics = make_registry(10000) };
	pool.ctx = bench_pool_new();
	bench_queue_new();
	if (http_server_start(&o, &s) < 0 || mgmt_api_register(s, &pool) < 0 ||
	    http_server_route(s, "GET", "/bench/stats", bench_stats, &s) < 0)
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
