/* mgmt_fixture.c - see mgmt_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mgmt_fixture.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_catalog.h"

int
listen_on(const char *addr, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1024), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

int
listen_loopback(int *port)
{
	return listen_on("127.0.0.1", port);
}

void
tls_cert_make(char *dir, char *cert, char *key)
{
	char cmd[1024];

	assert_non_null(mkdtemp(dir));
	snprintf(cert, 128, "%s/cert.pem", dir);
	snprintf(key, 128, "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
		 "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
		 key, cert);
	assert_int_equal(system(cmd), 0);
}

void
tls_cert_remove(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int
fake_list_containers(void *ctx, cJSON **items)
{
	(void)ctx;
	*items = cJSON_Parse("[{\"container\":{\"uuid\":\"" FAKE_CTR "\",\"state\":\"Queued\"},"
			     "\"scheduling_status\":\"Waiting in queue.\"}]");
	return 0;
}

static int
fake_get_container(void *ctx, const char *uuid, cJSON **entry)
{
	(void)ctx;
	if (strcmp(uuid, FAKE_CTR) != 0)
		return MGMT_NOT_FOUND;
	*entry = cJSON_Parse("{\"container\":{\"uuid\":\"" FAKE_CTR "\"}}");
	return 0;
}

static int
fake_kill_container(void *ctx, const char *uuid, const char *reason)
{
	struct fake_pool *p = ctx;
	p->calls++;
	snprintf(p->last_id, sizeof(p->last_id), "%s", uuid);
	snprintf(p->last_reason, sizeof(p->last_reason), "%s", reason);
	return strcmp(uuid, FAKE_CTR) ? MGMT_NOT_FOUND : 0;
}

static int
fake_list_instances(void *ctx, cJSON **items)
{
	(void)ctx;
	*items = cJSON_Parse("[{\"instance\":\"" FAKE_INST "\",\"worker_state\":\"idle\"}]");
	return 0;
}

static int
fake_instance_action(void *ctx, enum mgmt_instance_action a, const char *id, const char *reason)
{
	struct fake_pool *p = ctx;
	p->calls++;
	p->last_action = a;
	snprintf(p->last_id, sizeof(p->last_id), "%s", id);
	snprintf(p->last_reason, sizeof(p->last_reason), "%s", reason);
	return strcmp(id, FAKE_INST) ? MGMT_NOT_FOUND : 0;
}

static const char *
health_fn(void *ctx)
{
	return ((struct fixture *)ctx)->health_error;
}

static void
on_stop(uv_async_t *a)
{
	struct fixture *f = a->data;
	http_server_close(f->srv, NULL, NULL);
	uv_close((uv_handle_t *)a, NULL);
}

void
fixture_setup_loop(struct fixture *f, const struct fixture_opts *o, int listen_fd)
{
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->metrics = metrics_new();
	struct metrics_catalog_init in = { .version = "0.1.0-test",
					   .max_concurrent_requests = 64,
					   .max_queued_requests = 128,
					   .max_gateway_tunnels = 1000,
					   .process = true };
	assert_int_equal(metrics_catalog_register(f->metrics, &in), 0);
	struct http_server_opts so = {
		.loop = &f->loop,
		.listen_fd = listen_fd,
		.management_token = o->token,
		.tls_cert_pem = o->tls_cert_pem,
		.tls_key_pem = o->tls_key_pem,
		.max_connections = o->max_connections,
		.header_timeout_s = o->header_timeout_s,
		.request_timeout_s = o->request_timeout_s,
		.max_connections_per_ip = o->max_connections_per_ip,
		.max_header_bytes = o->max_header_bytes,
		.max_body_bytes = o->max_body_bytes,
		.metrics = f->metrics,
		.health = health_fn,
		.health_ctx = f,
	};
	assert_int_equal(http_server_start(&so, &f->srv), 0);
	if (o->fake_providers) {
		f->fake.enabled = true;
		f->prov = (struct mgmt_providers){
			.ctx = &f->fake,
			.list_containers = fake_list_containers,
			.get_container = fake_get_container,
			.kill_container = fake_kill_container,
			.list_instances = fake_list_instances,
			.instance_action = fake_instance_action,
		};
	}
	if (o->providers)
		f->prov = *o->providers;
	assert_int_equal(mgmt_api_register_opts(f->srv, &f->prov, o->api_opts), 0);
	assert_int_equal(uv_async_init(&f->loop, &f->stop, on_stop), 0);
	f->stop.data = f;
}

static void *
loop_thread(void *arg)
{
	struct fixture *f = arg;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	return NULL;
}

void
fixture_start(struct fixture *f, const struct fixture_opts *o)
{
	memset(f, 0, sizeof(*f));
	int fd = o->listen_fd > 0 ? o->listen_fd : listen_loopback(&f->port);
	fixture_setup_loop(f, o, fd);
	assert_int_equal(pthread_create(&f->thread, NULL, loop_thread, f), 0);
}

void
fixture_stop(struct fixture *f)
{
	uv_async_send(&f->stop);
	pthread_join(f->thread, NULL);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	metrics_free(f->metrics);
}

struct buf {
	char *p;
	size_t n;
};

static size_t
on_data(char *d, size_t sz, size_t nm, void *u)
{
	struct buf *b = u;
	size_t n = sz * nm;
	char *p = realloc(b->p, b->n + n + 1);
	assert_non_null(p);
	memcpy(p + b->n, d, n);
	b->n += n;
	p[b->n] = 0;
	b->p = p;
	return n;
}

void
http_call(const char *base, const char *method, const char *path, const char *const *hdrs,
	  const char *body, struct reply *out)
{
	char url[8192];
	struct buf b = { calloc(1, 1), 0 }, h = { calloc(1, 1), 0 };
	struct curl_slist *sl = NULL;
	CURL *c = curl_easy_init();
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	for (; hdrs && *hdrs; hdrs++)
		sl = curl_slist_append(sl, *hdrs);
	/* No "Expect: 100-continue" round trip for larger bodies. */
	sl = curl_slist_append(sl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	const char *ca = getenv("MGMT_TEST_CAINFO");
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	out->curl_rc = (int)curl_easy_perform(c);
	out->status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	out->body = b.p;
	out->headers = h.p;
	curl_slist_free_all(sl);
	curl_easy_cleanup(c);
}

void
reply_free(struct reply *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}
