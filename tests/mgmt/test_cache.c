/*
 * test_cache.c - the cached, sliced list rendering (dispatcherd/mgmt/mgmt_list.c) on a real server:
 * bodies byte-identical to printing the one-shot list, from the incremental source and from
 * the one-shot fallback, sliced down to one entry per loop turn, to concurrent clients; a
 * change in the pool served from the cache within the window, visible after it, and at once
 * after a management action; requests waiting when the server closes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgmt_fixture.h"

#define TOKEN  "cache-test-token"
#define AUTH   "Authorization: Bearer " TOKEN
#define N_INST 3000
#define N_CTR  2000

/* The fake pool: the test thread changes it while the loop thread renders it. */
struct fake {
	pthread_mutex_t mu;
	unsigned version; /* shows in every view: any change is visible in the body */
	char held[32];	  /* instance put on hold through the API */
};

static struct fake fk = { .mu = PTHREAD_MUTEX_INITIALIZER };

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
	for (unsigned i = 0; i < N_INST; i++)
		cJSON_AddItemToArray(*items, fake_view(i));
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int
fake_open(void *ctx, void **snap, size_t *n)
{
	(void)ctx;
	*snap = NULL;
	*n = N_INST;
	return 0;
}

static int
fake_entry(void *ctx, void *snap, size_t i, cJSON **out)
{
	(void)ctx, (void)snap;
	pthread_mutex_lock(&fk.mu);
	*out = fake_view((unsigned)i);
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

static void
start(uint64_t cache_ms, size_t slice_max)
{
	struct mgmt_api_opts ao = { .cache_ms = cache_ms, .slice_max = slice_max };
	struct fixture_opts o = { .token = TOKEN, .providers = &providers, .api_opts = &ao };

	fk.version = 0;
	fk.held[0] = 0;
	fixture_start(&fx, &o);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", fx.port);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cached_until_action),
		cmocka_unit_test(test_visible_after_window),
		cmocka_unit_test(test_close_while_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
