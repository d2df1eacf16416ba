/*
 * mgmt_bench_helper.c - the two halves of bench/mgmt:
 *   render N      time metrics_render_text over the section 8 catalogue plus N instance gauges
 *   serve TOKEN F  run the management server on 127.0.0.1:0 (plus the same N=10,000 gauges),
 *                  write the port to F, serve until killed
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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
	static struct mgmt_providers none;
	struct http_server *s;
	struct http_server_opts o = { .loop = uv_default_loop(), .listen_fd = fd,
				      .management_token = token, .metrics = make_registry(10000) };
	if (http_server_start(&o, &s) < 0 || mgmt_api_register(s, &none) < 0)
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
