/*
 * test_cache.c - the cached, sliced list rendering (dispatcherd/mgmt/mgmt_list.c) on a real server:
 * bodies byte-identical to printing the one-shot list, from the incremental source and from
 * the one-shot fallback, sliced down to one entry per loop turn, to concurrent clients; a
 * change in the pool served from the cache within the window, visible after it, and at once
 * after a management action; requests waiting when the server closes. Then a list larger
 * than the cache bound: streamed (chunked, same bytes), held back by a client that stops
 * reading (the rendering stops far short of the list, other clients are served meanwhile),
 * stopped when its only client goes, cut when the server closes; renderings beyond
 * max_renders wait for a slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_listen.h"
#include "mgmt_fixture.h"
#include "util.h"

#define TOKEN  "cache-test-token"
#define AUTH   "Authorization: Bearer " TOKEN
#define N_INST 3000
#define N_CTR  2000

/* The fake pool: the test thread changes it while the loop thread renders it. */
struct fake {
	pthread_mutex_t mu;
	unsigned version;  /* shows in every view: any change is visible in the body */
	char held[32];	   /* instance put on hold through the API */
	unsigned n_inst;   /* instances listed (N_INST unless a test wants more) */
	unsigned long got; /* entries the incremental source has built (rendered) */
};

static struct fake fk = { .mu = PTHREAD_MUTEX_INITIALIZER, .n_inst = N_INST };

static cJSON *
fake_view(unsigned i)
{
	char id[32], addr[32];
	cJSON *o = cJSON_CreateObject(), *u = cJSON_CreateArray();

	snprintf(id, sizeof(id), "i-%05u", i);
	snprintf(addr, sizeof(addr), "10.0.%u.%u", i / 256, i % 256);
	cJSON_AddStringToObject(o, "instance", id);
	cJSON_AddStringToObject(o, "address", addr);
	cJSON_AddNumberToObject(o, "price", 0.096 * (i % 7 + 1));
	cJSON_AddNumberToObject(o, "version", fk.version);
	if (i % 3)
		cJSON_AddItemToArray(u, cJSON_CreateString("zzzzz-dz642-\"quoted\"\\é"));
	cJSON_AddItemToObject(o, "running_container_uuids", u);
	cJSON_AddStringToObject(o, "idle_behavior", strcmp(fk.held, id) ? "run" : "hold");
	return o;
}

static int
fake_list_instances(void *ctx, cJSON **items)
{
	(void)ctx;
	pthread_mutex_lock(&fk.mu);
	*items = cJSON_CreateArray();
	for (unsigned i = 0; i < fk.n_inst; i++)
		cJSON_AddItemToArray(*items, fake_view(i));
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int
fake_open(void *ctx, void **snap, size_t *n)
{
	(void)ctx;
	*snap = NULL;
	pthread_mutex_lock(&fk.mu);
	*n = fk.n_inst;
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int
fake_entry(void *ctx, void *snap, size_t i, cJSON **out)
{
	(void)ctx, (void)snap;
	pthread_mutex_lock(&fk.mu);
	*out = fake_view((unsigned)i);
	fk.got++;
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static void
fake_close(void *ctx, void *snap)
{
	(void)ctx, (void)snap;
}

/* Containers only through the one-shot provider: the fallback path. */
static int
fake_list_containers(void *ctx, cJSON **items)
{
	(void)ctx;
	pthread_mutex_lock(&fk.mu);
	*items = cJSON_CreateArray();
	for (unsigned i = 0; i < N_CTR; i++) {
		cJSON *o = cJSON_CreateObject();
		char uuid[32];

		snprintf(uuid, sizeof(uuid), "zzzzz-dz642-%015u", i);
		cJSON_AddStringToObject(o, "uuid", uuid);
		cJSON_AddNumberToObject(o, "priority", 1e15 + i);
		cJSON_AddNumberToObject(o, "version", fk.version);
		cJSON_AddNullToObject(o, "mounts");
		cJSON_AddItemToArray(*items, o);
	}
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int
fake_action(void *ctx, enum mgmt_instance_action a, const char *id, const char *reason)
{
	(void)ctx, (void)reason;
	if (a != MGMT_HOLD || strncmp(id, "i-", 2) != 0)
		return MGMT_NOT_FOUND;
	pthread_mutex_lock(&fk.mu);
	snprintf(fk.held, sizeof(fk.held), "%s", id);
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static const struct mgmt_providers providers = {
	.list_instances = fake_list_instances,
	.list_containers = fake_list_containers,
	.instance_action = fake_action,
	.instances_src = { fake_open, fake_entry, fake_close },
};

/* What the server answered before caching and slicing: the one-shot list, printed whole. */
static char *
reference(int (*list)(void *, cJSON **))
{
	cJSON *items = NULL, *o = cJSON_CreateObject();

	assert_int_equal(list(NULL, &items), 0);
	cJSON_AddItemToObject(o, "items", items);
	char *s = cJSON_PrintUnformatted(o), *t = malloc(strlen(s) + 2);

	sprintf(t, "%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
	return t;
}

static struct fixture fx;
static char base[64];

/* With a certificate and key (PEM), the server speaks HTTPS. */
static void
start_tls(const struct mgmt_api_opts *ao, unsigned n_inst, const char *cert, const char *key)
{
	struct fixture_opts o = { .token = TOKEN,
				  .providers = &providers,
				  .api_opts = ao,
				  .tls_cert_pem = cert,
				  .tls_key_pem = key };

	fk.version = 0;
	fk.held[0] = 0;
	fk.n_inst = n_inst;
	fk.got = 0;
	fixture_start(&fx, &o);
	snprintf(base, sizeof(base), "%s://127.0.0.1:%d", cert ? "https" : "http", fx.port);
}

static void
start_opts(const struct mgmt_api_opts *ao, unsigned n_inst)
{
	start_tls(ao, n_inst, NULL, NULL);
}

static void
start(uint64_t cache_ms, size_t slice_max)
{
	struct mgmt_api_opts ao = { .cache_ms = cache_ms, .slice_max = slice_max };

	start_opts(&ao, N_INST);
}

static char *
get(const char *path)
{
	const char *h[] = { AUTH, NULL };
	struct reply r;

	http_call(base, "GET", path, h, NULL, &r);
	assert_int_equal(r.curl_rc, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: application/json"));
	char *b = r.body;

	r.body = NULL;
	reply_free(&r);
	return b;
}

static void
expect_body(const char *path, const char *want)
{
	char *b = get(path);

	assert_int_equal(strlen(b), strlen(want));
	assert_string_equal(b, want);
	free(b);
}

static void
bump(void)
{
	pthread_mutex_lock(&fk.mu);
	fk.version++;
	pthread_mutex_unlock(&fk.mu);
}

static void
test_identical(void **state)
{
	(void)state;
	/* One entry per loop turn, then the default budget only. */
	for (size_t slice = 1; slice <= 1000; slice += 999) {
		start(60000, slice == 1000 ? 0 : slice);
		char *wi = reference(fake_list_instances), *wc = reference(fake_list_containers);

		expect_body("/arvados/v1/dispatch/instances", wi);
		expect_body("/arvados/v1/dispatch/containers", wc);
		expect_body("/arvados/v1/dispatch/instances", wi); /* from the cache */
		free(wi);
		free(wc);
		fixture_stop(&fx);
	}
}

struct client {
	pthread_t t;
	char *body;
};

static void *
client_run(void *arg)
{
	struct client *c = arg;
	const char *h[] = { AUTH, NULL };
	struct reply r;

	http_call(base, "GET", "/arvados/v1/dispatch/instances", h, NULL, &r);
	c->body = r.status == 200 ? r.body : NULL;
	if (c->body == NULL)
		free(r.body);
	r.body = NULL;
	reply_free(&r);
	return NULL;
}

/* Clients arriving while one rendering runs (one entry a turn) all get its bytes. */
static void
test_concurrent(void **state)
{
	struct client c[8];

	(void)state;
	start(60000, 1);
	char *want = reference(fake_list_instances);

	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&c[i].t, NULL, client_run, &c[i]), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(c[i].t, NULL);
		assert_non_null(c[i].body);
		assert_string_equal(c[i].body, want);
		free(c[i].body);
	}
	free(want);
	fixture_stop(&fx);
}

/* Within the window the cached rendering is served; a management action is seen at once. */
static void
test_cached_until_action(void **state)
{
	const char *h[] = { AUTH, NULL };
	struct reply r;

	(void)state;
	start(60000, 0);
	char *v0 = reference(fake_list_instances);

	expect_body("/arvados/v1/dispatch/instances", v0);
	bump();
	char *v1 = reference(fake_list_instances);

	assert_string_not_equal(v0, v1);
	expect_body("/arvados/v1/dispatch/instances", v0); /* 60 s window: cached */
	http_call(base, "POST", "/arvados/v1/dispatch/instances/hold?instance_id=i-00042", h, NULL,
		  &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	char *v2 = reference(fake_list_instances);

	assert_non_null(strstr(v2, "\"instance\":\"i-00042\""));
	expect_body("/arvados/v1/dispatch/instances", v2);
	free(v0);
	free(v1);
	free(v2);
	fixture_stop(&fx);
}

/* After the window a change in the pool is visible. */
static void
test_visible_after_window(void **state)
{
	struct timespec ts = { 0, 300 * 1000000L };

	(void)state;
	start(100, 0);
	char *v0 = reference(fake_list_instances);

	expect_body("/arvados/v1/dispatch/instances", v0);
	bump();
	char *v1 = reference(fake_list_instances);

	nanosleep(&ts, NULL);
	expect_body("/arvados/v1/dispatch/instances", v1);
	free(v0);
	free(v1);
	fixture_stop(&fx);
}

/* The server closes while requests wait for a slow rendering: each gets the body, a 503 or a
 * closed connection, and everything is freed (LeakSanitizer). */
static void
test_close_while_waiting(void **state)
{
	struct client c[4];
	struct timespec ts = { 0, 20 * 1000000L };

	(void)state;
	start(60000, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&c[i].t, NULL, client_run, &c[i]), 0);
	nanosleep(&ts, NULL);
	fixture_stop(&fx);
	char *want = reference(fake_list_instances);

	for (int i = 0; i < 4; i++) {
		pthread_join(c[i].t, NULL);
		if (c[i].body)
			assert_string_equal(c[i].body, want);
		free(c[i].body);
	}
	free(want);
}

/* Streaming. The list is N_BIG instances (~14 MB of JSON); anything over 64 KiB is streamed,
 * at most 128 KiB ahead of the slowest reader. */
#define N_BIG	   100000
#define BIG_CACHE  (64 * 1024)
#define BIG_WINDOW (128 * 1024)

/* The server with the big list, over HTTPS when cert and key (PEM) are given. */
static void
start_big_tls(unsigned max_renders, const char *cert, const char *key)
{
	struct mgmt_api_opts ao = { .cache_ms = 60000,
				    .cache_max = BIG_CACHE,
				    .window = BIG_WINDOW,
				    .max_renders = max_renders };

	start_tls(&ao, N_BIG, cert, key);
}

static void
start_big(unsigned max_renders)
{
	start_big_tls(max_renders, NULL, NULL);
}

static unsigned long
rendered(void)
{
	pthread_mutex_lock(&fk.mu);
	unsigned long n = fk.got;
	pthread_mutex_unlock(&fk.mu);
	return n;
}

/* The count of entries rendered once it has stopped moving (for 300 ms). */
static unsigned long
rendered_settled(void)
{
	struct timespec ts = { 0, 300 * 1000000L };
	unsigned long last = rendered();

	for (int i = 0; i < 100; i++) {
		nanosleep(&ts, NULL);
		unsigned long now = rendered();
		if (now == last)
			return now;
		last = now;
	}
	fail_msg("the rendering never stopped (%lu entries)", last);
	return 0;
}

/* The most entries a rendering may have built for a client that stopped reading after its
 * first bytes: what the cache bound, the window and a block hold, plus what the kernel
 * buffers between the two sockets (the server's send buffer grows up to tcp_wmem's maximum),
 * plus 1 MB, in entries of this list's average size. */
static unsigned long
stalled_bound(const char *want)
{
	long wmem_max = 4 << 20;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");

	if (f != NULL) {
		long a, b;
		if (fscanf(f, "%ld %ld %ld", &a, &b, &wmem_max) != 3)
			wmem_max = 4 << 20;
		fclose(f);
	}
	double per = (double)strlen(want) / N_BIG;
	double bytes = BIG_CACHE + BIG_WINDOW + 256 * 1024 + (double)wmem_max + 2 * 16384 +
		       (1 << 20);
	unsigned long bound = (unsigned long)(bytes / per);

	/* Else the list is too short for the test to tell a bounded rendering from a whole one. */
	assert_true(bound < N_BIG / 2);
	return bound;
}

/* A client with a small receive buffer (so the kernel holds little of the body for it) that
 * reads all, or stops at its first bytes until released, or hangs up at its first bytes. */
enum sc_mode { SC_READ, SC_STALL, SC_HANG_UP };

struct sclient {
	pthread_t t;
	enum sc_mode mode;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stalled, released;
	char *body, headers[2048];
	size_t len, cap, hlen;
	long status;
	int curl_rc;
};

static size_t
sc_header(char *p, size_t size, size_t n, void *arg)
{
	struct sclient *c = arg;
	size_t k = size * n;

	pthread_mutex_lock(&c->mu);
	if (c->hlen + k < sizeof(c->headers)) {
		memcpy(c->headers + c->hlen, p, k);
		c->hlen += k;
		c->headers[c->hlen] = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return k;
}

static size_t
sc_data(char *p, size_t size, size_t n, void *arg)
{
	struct sclient *c = arg;
	size_t k = size * n;

	if (c->mode == SC_HANG_UP)
		return 0; /* curl aborts the transfer and closes the connection */
	pthread_mutex_lock(&c->mu);
	if (c->mode == SC_STALL && !c->released) {
		c->stalled = true;
		pthread_cond_broadcast(&c->cv);
		while (!c->released)
			pthread_cond_wait(&c->cv, &c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	if (c->len + k + 1 > c->cap) {
		c->cap = 2 * (c->len + k + 1);
		c->body = realloc(c->body, c->cap);
		assert_non_null(c->body);
	}
	memcpy(c->body + c->len, p, k);
	c->len += k;
	c->body[c->len] = 0;
	return k;
}

static int
sc_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	int sz = 16 * 1024;

	(void)arg, (void)purpose;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return CURL_SOCKOPT_OK;
}

static void *
sc_run(void *arg)
{
	struct sclient *c = arg;
	char url[128];
	struct curl_slist *sl = curl_slist_append(NULL, AUTH);
	CURL *h = curl_easy_init();

	snprintf(url, sizeof(url), "%s/arvados/v1/dispatch/instances", base);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sc_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sc_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sc_sockopt);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 16384L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (getenv("MGMT_TEST_CAINFO") != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, getenv("MGMT_TEST_CAINFO"));
	c->curl_rc = (int)curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	curl_slist_free_all(sl);
	curl_easy_cleanup(h);
	return NULL;
}

static void
sc_start(struct sclient *c, enum sc_mode mode)
{
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	assert_int_equal(pthread_create(&c->t, NULL, sc_run, c), 0);
}

static void
sc_wait_stalled(struct sclient *c)
{
	pthread_mutex_lock(&c->mu);
	while (!c->stalled)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

static void
sc_finish(struct sclient *c)
{
	pthread_mutex_lock(&c->mu);
	c->released = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->t, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
}

/* A client that stops at its first bytes, once its rendering has stopped moving: the entries
 * rendered by then. */
static unsigned long
sc_stall(struct sclient *c)
{
	sc_start(c, SC_STALL);
	sc_wait_stalled(c);
	return rendered_settled();
}

/* The whole body, streamed: chunked, no Content-Length, the one-shot rendering's bytes. */
static void
expect_streamed(struct sclient *c, const char *want)
{
	assert_int_equal(c->curl_rc, 0);
	assert_int_equal(c->status, 200);
	assert_non_null(strstr(c->headers, "Transfer-Encoding: chunked"));
	assert_null(strstr(c->headers, "Content-Length"));
	assert_non_null(strstr(c->headers, "Content-Type: application/json"));
	assert_int_equal(c->len, strlen(want));
	assert_string_equal(c->body, want);
}

static void
test_streamed_identical(void **state)
{
	struct sclient c[3];

	(void)state;
	start_big(0);
	char *want = reference(fake_list_instances);

	assert_true(strlen(want) > 50 * BIG_CACHE);
	for (int i = 0; i < 3; i++)
		sc_start(&c[i], SC_READ);
	for (int i = 0; i < 3; i++) {
		sc_finish(&c[i]);
		expect_streamed(&c[i], want);
		free(c[i].body);
	}
	/* Nothing that large is kept: the next request renders again. */
	sc_start(&c[0], SC_READ);
	sc_finish(&c[0]);
	expect_streamed(&c[0], want);
	free(c[0].body);
	assert_true(rendered() >= 2 * (unsigned long)N_BIG);
	free(want);
	fixture_stop(&fx);
}

/* On a started server: a client that stops reading holds its rendering back (far short of the
 * list), while another client is served in full meanwhile; once it reads again it gets every
 * byte. */
static void
slow_reader_and_other(void)
{
	struct sclient slow, other;
	char *want = reference(fake_list_instances);
	unsigned long held = sc_stall(&slow);

	print_message("entries rendered while the client stalls: %lu of %d (bound %lu)\n", held,
		      N_BIG, stalled_bound(want));
	assert_true(held <= stalled_bound(want));
	sc_start(&other, SC_READ);
	sc_finish(&other);
	expect_streamed(&other, want);
	sc_finish(&slow);
	expect_streamed(&slow, want);
	free(other.body);
	free(slow.body);
	free(want);
}

static void
test_streamed_slow_reader(void **state)
{
	(void)state;
	start_big(0);
	slow_reader_and_other();
	fixture_stop(&fx);
}

/* The only client hangs up: its rendering stops; the next request is served in full. */
static void
test_streamed_client_gone(void **state)
{
	struct sclient gone, next;

	(void)state;
	start_big(0);
	char *want = reference(fake_list_instances);

	sc_start(&gone, SC_HANG_UP);
	sc_finish(&gone);
	assert_int_equal(gone.curl_rc, CURLE_WRITE_ERROR);
	assert_true(rendered_settled() <= stalled_bound(want));
	sc_start(&next, SC_READ);
	sc_finish(&next);
	expect_streamed(&next, want);
	free(gone.body);
	free(next.body);
	free(want);
	fixture_stop(&fx);
}

/* With one rendering allowed, a second request waits for the stalled one's to end, then gets
 * a rendering of its own. */
static void
test_streamed_max_renders(void **state)
{
	struct sclient slow, other;

	(void)state;
	start_big(1);
	char *want = reference(fake_list_instances);

	sc_stall(&slow);
	sc_start(&other, SC_READ);
	/* It waits (no answer at all) while the only rendering allowed is held back; on a
	 * starved machine it could only be seen waiting longer. */
	struct timespec ts = { 0, 500 * 1000000L };
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&other.mu);
	assert_int_equal(other.hlen, 0);
	pthread_mutex_unlock(&other.mu);
	assert_true(rendered() <= stalled_bound(want));
	sc_finish(&slow);
	expect_streamed(&slow, want);
	sc_finish(&other);
	expect_streamed(&other, want);
	assert_int_equal(rendered(), 2 * (unsigned long)N_BIG); /* each had its own */
	free(slow.body);
	free(other.body);
	free(want);
	fixture_stop(&fx);
}

/* The server closes while a client is stalled in a streamed body: the body is cut, and
 * everything is freed (LeakSanitizer). */
static void
test_streamed_close(void **state)
{
	struct sclient slow;

	(void)state;
	start_big(0);
	char *want = reference(fake_list_instances);

	sc_stall(&slow);
	fixture_stop(&fx);
	sc_finish(&slow);
	assert_true(slow.curl_rc != 0 || slow.len < strlen(want));
	free(slow.body);
	free(want);
}

/* Over TLS (an operator's management URL is often https): the same bytes, and a client that
 * stalls and reads again gets them all (libmicrohttpd suspends and resumes a TLS connection
 * from the content reader too). */
static void
test_streamed_tls(void **state)
{
	char dir[] = "/tmp/mgmt-cache-tls-XXXXXX", cert[128], key[128];
	char *cpem, *kpem, err[256];

	(void)state;
	tls_cert_make(dir, cert, key);
	assert_int_equal(http_listen_load_tls(cert, key, &cpem, &kpem, err, sizeof(err)), 0);
	start_big_tls(0, cpem, kpem);
	adc_free_secret_str(kpem);
	free(cpem);
	setenv("MGMT_TEST_CAINFO", cert, 1);
	slow_reader_and_other();
	unsetenv("MGMT_TEST_CAINFO");
	fixture_stop(&fx);
	tls_cert_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cached_until_action),
		cmocka_unit_test(test_visible_after_window),
		cmocka_unit_test(test_close_while_waiting),
		cmocka_unit_test(test_streamed_identical),
		cmocka_unit_test(test_streamed_slow_reader),
		cmocka_unit_test(test_streamed_client_gone),
		cmocka_unit_test(test_streamed_max_renders),
		cmocka_unit_test(test_streamed_close),
		cmocka_unit_test(test_streamed_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
