/*
 * test_api_client.c - the API client against api_test_server.py, asserting on what the server
 * received: headers, parameter encoding, the 1000-byte switch to POST, bodies, TLS, errors,
 * timeouts, 503 handling and the concurrency limit.
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "api_client.h"
#include "api_identity.h"
#include "api_json.h"
#include "test_server.h"
#include "uv_wait.h"

#define TOKEN "v2/zzzzz-gj3su-000000000000000/s3cr3tT0kenValueNobodyMayLog"

static struct test_server http_srv, tls_srv;
static uv_loop_t loop;
static int seq;

struct done {
	int called;
	int err;
	long status;
	cJSON *body;
	char *error;
	char reqid[32];
	int order;
};

static void
on_done(void *arg, struct api_result *r)
{
	struct done *d = arg;

	d->called++;
	d->err = r->err;
	d->status = r->status;
	d->body = r->body;
	r->body = NULL;
	d->error = r->error != NULL ? strdup(r->error) : NULL;
	snprintf(d->reqid, sizeof(d->reqid), "%s", r->request_id);
	d->order = seq++;
}

static void
done_clear(struct done *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete(d[i].body);
		free(d[i].error);
		memset(&d[i], 0, sizeof(d[i]));
	}
}

/* The shared wait (tests/support; a bare UV_RUN_ONCE loop can sleep past a completion made by
 * a timer, issue 18). The client's own timeouts are far shorter than this guard. */
static void
wait_all(struct done *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(uvw_until_int(&loop, &d[i].called, 1, 120000), 0);
}

static void
assert_no_token(const char *text)
{
	if (text != NULL) {
		assert_null(strstr(text, TOKEN));
		assert_null(strstr(text, "s3cr3tT0ken"));
	}
}

static struct api_client_opts
opts(const char *url)
{
	return (struct api_client_opts){ .controller_url = url, .token = TOKEN };
}

static struct api_client *
client(const struct api_client_opts *o)
{
	struct api_client *c = NULL;
	char *err = NULL;

	assert_int_equal(api_client_new(&loop, o, &c, &err), 0);
	assert_null(err);
	return c;
}

static void
on_closed(void *arg)
{
	*(int *)arg = 1;
}

static void
client_free(struct api_client *c)
{
	int closed = 0;

	api_client_free(c, on_closed, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 1);
}

static void
call(struct api_client *c, const char *method, const char *path, const struct api_params *p,
     struct done *d)
{
	assert_int_equal(api_call(c, method, path, p, on_done, d), 0);
	wait_all(d, 1);
	assert_int_equal(d->called, 1);
	assert_no_token(d->error);
}

static const char *
field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static const char *
header(const cJSON *echo, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(echo, "headers"), name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
setup(void **state)
{
	(void)state;
	seq = 0;
	return uv_loop_init(&loop);
}

static int
teardown(void **state)
{
	(void)state;
	uv_run(&loop, UV_RUN_DEFAULT);
	return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void
test_headers(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	struct done d[2] = { 0 };
	regex_t re;

	(void)state;
	assert_int_equal(regcomp(&re, "^req-[0-9a-z]{20}$", REG_EXTENDED | REG_NOSUB), 0);
	call(c, "GET", "/echo/arvados/v1/containers", NULL, &d[0]);
	call(c, "GET", "echo/x", NULL, &d[1]);
	assert_int_equal(d[0].err, 0);
	assert_int_equal(d[0].status, 200);
	assert_string_equal(field(d[0].body, "method"), "GET");
	assert_string_equal(field(d[0].body, "path"), "/echo/arvados/v1/containers");
	assert_string_equal(field(d[0].body, "query"), "");
	assert_string_equal(field(d[1].body, "path"), "/echo/x");
	assert_string_equal(header(d[0].body, "authorization"), "Bearer " TOKEN);
	assert_string_equal(header(d[0].body, "content-type"), "application/x-www-form-urlencoded");
	assert_null(header(d[0].body, "x-http-method-override"));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(regexec(&re, header(d[i].body, "x-request-id"), 0, NULL, 0), 0);
		assert_string_equal(header(d[i].body, "x-request-id"), d[i].reqid);
	}
	assert_string_not_equal(d[0].reqid, d[1].reqid);
	regfree(&re);
	done_clear(d, 2);
	client_free(c);
}

static void
test_query_encoding(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	struct api_params *p = api_params_new();
	cJSON *filters = cJSON_Parse("[[\"state\",\"=\",\"Queued\"],[\"priority\",\">\",\"0\"]]");
	cJSON *sel = cJSON_Parse("[\"uuid\",\"priority\"]");
	cJSON *null = cJSON_CreateNull();
	struct done d = { 0 };

	(void)state;
	api_params_add_json(p, "filters", filters);
	api_params_add_json(p, "select", sel);
	api_params_add_str(p, "order", "priority desc");
	api_params_add_int(p, "limit", 1000);
	api_params_add_int(p, "offset", INT64_C(9007199254740993));
	api_params_add_str(p, "count", "none");
	api_params_add_bool(p, "distinct", false);
	api_params_add_bool(p, "bypass_federation", true);
	api_params_add_json(p, "where", null);
	assert_int_equal(api_list(c, "echo/arvados/v1/containers", p, on_done, &d), 0);
	wait_all(&d, 1);
	assert_int_equal(d.err, 0);
	assert_string_equal(field(d.body, "method"), "GET");
	assert_string_equal(field(d.body, "query"),
			    "bypass_federation=true&count=none"
			    "&filters=%5B%5B%22state%22%2C%22%3D%22%2C%22Queued%22%5D%2C"
			    "%5B%22priority%22%2C%22%5Cu003e%22%2C%220%22%5D%5D"
			    "&limit=1000&offset=9007199254740993&order=priority+desc"
			    "&select=%5B%22uuid%22%2C%22priority%22%5D");
	assert_string_equal(field(d.body, "body"), "");
	done_clear(&d, 1);
	cJSON_Delete(filters);
	cJSON_Delete(sel);
	cJSON_Delete(null);
	api_params_free(p);
	client_free(c);
}

/* A GET whose form is 999 bytes uses the query; 1000 bytes go as POST with the override. */
static void
test_long_get_becomes_post(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	char *v = malloc(1000);
	struct done d[2] = { 0 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct api_params *p = api_params_new();
		memset(v, 'a', 997 + i);
		v[997 + i] = '\0';
		api_params_add_str(p, "x", v); /* "x=" + value: 999, then 1000 bytes */
		call(c, "GET", "echo/long", p, &d[i]);
		api_params_free(p);
		assert_int_equal(d[i].err, 0);
	}
	assert_string_equal(field(d[0].body, "method"), "GET");
	assert_int_equal(strlen(field(d[0].body, "query")), 999);
	assert_null(header(d[0].body, "x-http-method-override"));
	assert_string_equal(field(d[1].body, "method"), "POST");
	assert_string_equal(field(d[1].body, "query"), "");
	assert_string_equal(header(d[1].body, "x-http-method-override"), "GET");
	assert_string_equal(header(d[1].body, "content-type"), "application/x-www-form-urlencoded");
	assert_int_equal(strlen(field(d[1].body, "body")), 1000);
	assert_memory_equal(field(d[1].body, "body"), "x=aaaa", 6);
	done_clear(d, 2);
	free(v);
	client_free(c);
}

static void
test_put_and_post_bodies(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	struct api_params *p = api_params_new();
	cJSON *ctr = cJSON_Parse("{\"runtime_status\":{\"error\":\"no type fits\"}}");
	cJSON *sel = cJSON_Parse("[\"uuid\"]");
	struct done d[2] = { 0 };

	(void)state;
	api_params_add_json(p, "container", ctr);
	api_params_add_json(p, "select", sel);
	call(c, "PUT", "echo/arvados/v1/containers/zzzzz-dz642-queuedcontainer", p, &d[0]);
	assert_int_equal(d[0].err, 0);
	assert_string_equal(field(d[0].body, "method"), "PUT");
	assert_string_equal(field(d[0].body, "query"), "");
	assert_string_equal(
		field(d[0].body, "body"),
		"container=%7B%22runtime_status%22%3A%7B%22error%22%3A%22no+type+fits%22%7D%7D"
		"&select=%5B%22uuid%22%5D");
	assert_string_equal(header(d[0].body, "content-type"), "application/x-www-form-urlencoded");
	/* lock: POST with an empty form body. */
	call(c, "POST", "echo/arvados/v1/containers/zzzzz-dz642-queuedcontainer/lock", NULL, &d[1]);
	assert_int_equal(d[1].err, 0);
	assert_string_equal(field(d[1].body, "method"), "POST");
	assert_string_equal(field(d[1].body, "body"), "");
	assert_string_equal(header(d[1].body, "content-length"), "0");
	assert_null(header(d[1].body, "x-http-method-override"));
	assert_null(header(d[1].body, "expect"));
	done_clear(d, 2);
	cJSON_Delete(ctr);
	cJSON_Delete(sel);
	api_params_free(p);
	client_free(c);
}

static void
test_http_errors(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	struct done d[4] = { 0 };

	(void)state;
	call(c, "POST", "status/422", NULL, &d[0]);
	assert_int_equal(d[0].err, -EREMOTEIO);
	assert_int_equal(d[0].status, 422);
	assert_null(d[0].body);
	assert_non_null(strstr(d[0].error, "POST "));
	assert_non_null(strstr(d[0].error, "/status/422: 422 Unprocessable Entity: "));
	assert_non_null(
		strstr(d[0].error, "#<ArvadosModel::LockFailedError: cannot lock when Locked>"));
	assert_non_null(strstr(d[0].error, "; State cannot change from Queued to Running"));
	assert_non_null(strstr(d[0].error, d[0].reqid));
	call(c, "GET", "status/404", NULL, &d[1]);
	assert_int_equal(d[1].err, -EREMOTEIO);
	assert_int_equal(d[1].status, 404);
	assert_non_null(strstr(d[1].error, "404 Not Found: Path not found"));
	call(c, "GET", "status/204", NULL, &d[2]);
	assert_int_equal(d[2].err, 0);
	assert_int_equal(d[2].status, 204);
	assert_null(d[2].body);
	assert_null(d[2].error);
	call(c, "GET", "status/500", NULL, &d[3]);
	assert_int_equal(d[3].err, -EREMOTEIO);
	assert_non_null(strstr(d[3].error, "500 Internal Server Error: PG::TRDeadlockDetected"));
	done_clear(d, 4);
	client_free(c);
}

static void
test_bad_bodies_and_big_ints(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	struct done d[3] = { 0 };
	int64_t v;

	(void)state;
	call(c, "GET", "malformed", NULL, &d[0]);
	assert_int_equal(d[0].err, -EBADMSG);
	assert_int_equal(d[0].status, 200);
	assert_null(d[0].body);
	assert_non_null(strstr(d[0].error, "malformed JSON"));
	call(c, "GET", "empty", NULL, &d[1]);
	assert_int_equal(d[1].err, -EBADMSG);
	assert_non_null(strstr(d[1].error, "empty body"));
	call(c, "GET", "bigint", NULL, &d[2]);
	assert_int_equal(d[2].err, 0);
	assert_int_equal(api_json_get_int64(d[2].body, "priority", &v), 0);
	assert_true(v == INT64_C(1152921504606846975));
	assert_int_equal(api_json_get_int64(d[2].body, "neg", &v), 0);
	assert_true(v == INT64_C(-9007199254740993));
	assert_int_equal(
		api_json_get_int64(cJSON_GetArrayItem(cJSON_GetObjectItem(d[2].body, "nested"), 0),
				   "p", &v),
		0);
	assert_true(v == INT64_MAX);
	done_clear(d, 3);
	client_free(c);
}

static void
test_timeout_and_refused(void **state)
{
	struct api_client_opts o = opts(http_srv.url);
	struct api_client *c;
	struct done d[2] = { 0 };
	char url[64];

	(void)state;
	o.timeout_ms = 1000;
	c = client(&o);
	call(c, "GET", "hang", NULL, &d[0]);
	assert_int_equal(d[0].err, -ETIMEDOUT);
	assert_int_equal(d[0].status, 0);
	assert_non_null(strstr(d[0].error, "timed out"));
	client_free(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", test_server_dead_port());
	o.controller_url = url;
	c = client(&o);
	call(c, "GET", "anything", NULL, &d[1]);
	assert_int_equal(d[1].err, -ECONNREFUSED);
	assert_non_null(strstr(d[1].error, "connection failed"));
	done_clear(d, 2);
	client_free(c);
}

static void
test_tls(void **state)
{
	struct api_client_opts o = opts(tls_srv.url);
	char right[128], wrong[128], noscheme[64];
	struct done d[4] = { 0 };
	struct api_client *c;

	(void)state;
	snprintf(right, sizeof(right), "%s/cert.pem", tls_srv.dir);
	snprintf(wrong, sizeof(wrong), "%s/other.pem", tls_srv.dir);
	o.ca_file = wrong;
	c = client(&o);
	call(c, "GET", "echo/tls", NULL, &d[0]);
	assert_int_equal(d[0].err, -EKEYREJECTED);
	assert_non_null(strstr(d[0].error, "TLS certificate verification failed"));
	client_free(c);
	o.insecure = true; /* TLS.Insecure */
	c = client(&o);
	call(c, "GET", "echo/tls", NULL, &d[1]);
	assert_int_equal(d[1].err, 0);
	assert_string_equal(header(d[1].body, "authorization"), "Bearer " TOKEN);
	client_free(c);
	o.insecure = false;
	o.ca_file = right;
	c = client(&o);
	call(c, "GET", "echo/tls", NULL, &d[2]);
	assert_int_equal(d[2].err, 0);
	client_free(c);
	/* No scheme: https by default. */
	snprintf(noscheme, sizeof(noscheme), "127.0.0.1:%d", tls_srv.port);
	o.controller_url = noscheme;
	c = client(&o);
	call(c, "GET", "echo/tls", NULL, &d[3]);
	assert_int_equal(d[3].err, 0);
	done_clear(d, 4);
	client_free(c);
}

static void
test_bad_config(void **state)
{
	static const char *const bad[] = { "", "https://", "ftp://example.com", "http://:80/" };
	struct api_client_opts o = opts(NULL);
	struct api_client *c = (struct api_client *)1;
	char *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.controller_url = bad[i];
		assert_int_equal(api_client_new(&loop, &o, &c, &err), -EINVAL);
		assert_null(c);
		assert_non_null(err);
		assert_non_null(strstr(err, "Services.Controller.ExternalURL"));
		free(err);
	}
	o.controller_url = http_srv.url;
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(api_client_new(&loop, &o, &c, &err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	free(err);
	o.ca_file = NULL;
	c = client(&o);
	struct done d = { 0 };
	assert_int_equal(api_call(c, "BREW", "echo", NULL, on_done, &d), -EINVAL);
	assert_int_equal(api_call(c, "GET", "", NULL, on_done, &d), -EINVAL);
	assert_int_equal(api_call(c, "GET", "echo/a b", NULL, on_done, &d), -EINVAL);
	assert_int_equal(api_call(c, "GET", "echo?limit=1", NULL, on_done, &d), -EINVAL);
	assert_int_equal(api_call(c, "GET", "echo\r\nX-Evil: 1", NULL, on_done, &d), -EINVAL);
	assert_int_equal(d.called, 0);
	client_free(c);
}

static void
test_503(void **state)
{
	struct api_client *c =
		client(&(struct api_client_opts){ .controller_url = http_srv.url, .token = TOKEN });
	struct done d[12] = { 0 };
	struct api_client_stats st;

	(void)state;
	assert_int_equal(api_client_last_503(c), 0);
	for (int i = 0; i < 12; i++)
		assert_int_equal(api_call(c, "GET", "status/503", NULL, on_done, &d[i]), 0);
	api_client_stats(c, &st);
	assert_int_equal(st.in_flight, 8);
	assert_int_equal(st.queued, 4);
	wait_all(d, 12);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(d[i].err, -EREMOTEIO);
		assert_int_equal(d[i].status, 503);
		assert_non_null(strstr(d[i].error, "503 Service Unavailable"));
	}
	assert_true(api_client_last_503(c) > 0);
	api_client_stats(c, &st);
	assert_true(st.limit >= 1 && st.limit <= 4);
	assert_true(st.peak_in_flight <= 8);
	done_clear(d, 12);
	client_free(c);
}

static void
run_many(struct api_client *c, int n, struct done *d, cJSON **stats)
{
	struct done r = { 0 }, s = { 0 };

	call(c, "GET", "reset", NULL, &r);
	for (int i = 0; i < n; i++)
		assert_int_equal(api_call(c, "GET", "slow", NULL, on_done, &d[i]), 0);
	wait_all(d, (size_t)n);
	for (int i = 0; i < n; i++)
		assert_int_equal(d[i].err, 0);
	call(c, "GET", "stats", NULL, &s);
	*stats = s.body;
	s.body = NULL;
	done_clear(&r, 1);
	done_clear(&s, 1);
}

/* 100 requests at once: none dropped, and the server never sees more at once than the
 * limiter allowed. */
static void
test_100_concurrent(void **state)
{
	struct api_client_opts o = opts(http_srv.url);
	struct done d[100] = { 0 };
	struct api_client_stats st;
	struct api_client *c;
	cJSON *stats;
	int64_t max_active, total;

	(void)state;
	o.max_concurrent_requests = 16; /* limiter cap 4 */
	c = client(&o);
	run_many(c, 100, d, &stats);
	api_client_stats(c, &st);
	assert_int_equal(api_json_get_int64(stats, "max_active", &max_active), 0);
	assert_int_equal(api_json_get_int64(stats, "total", &total), 0);
	assert_int_equal(total, 100);
	assert_true(max_active >= 1 && max_active <= 4);
	assert_true(st.peak_in_flight <= 4);
	assert_int_equal(st.peak_limit, 4);
	cJSON_Delete(stats);
	done_clear(d, 100);
	client_free(c);

	o.max_concurrent_requests = 0; /* uncapped: grows from 8 */
	c = client(&o);
	run_many(c, 100, d, &stats);
	api_client_stats(c, &st);
	assert_int_equal(api_json_get_int64(stats, "max_active", &max_active), 0);
	assert_int_equal(api_json_get_int64(stats, "total", &total), 0);
	assert_int_equal(total, 100);
	assert_true(max_active <= st.peak_limit);
	assert_true(st.peak_in_flight <= st.peak_limit);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.in_flight, 0);
	cJSON_Delete(stats);
	done_clear(d, 100);
	client_free(c);
}

/* Requests beyond the limit wait in order. */
static void
test_fifo(void **state)
{
	struct api_client_opts o = opts(http_srv.url);
	struct done d[6] = { 0 };
	struct api_client *c;

	(void)state;
	o.max_concurrent_requests = 4; /* one at a time */
	c = client(&o);
	for (int i = 0; i < 6; i++) {
		struct api_params *p = api_params_new();
		api_params_add_int(p, "n", i);
		assert_int_equal(api_call(c, "GET", "echo/fifo", p, on_done, &d[i]), 0);
		api_params_free(p);
	}
	wait_all(d, 6);
	for (int i = 0; i < 6; i++) {
		char q[8];
		snprintf(q, sizeof(q), "n=%d", i);
		assert_int_equal(d[i].err, 0);
		assert_int_equal(d[i].order, i);
		assert_string_equal(field(d[i].body, "query"), q);
	}
	done_clear(d, 6);
	client_free(c);
}

static void
free_in_callback(void *arg, struct api_result *r)
{
	struct api_client **c = arg;

	assert_int_equal(r->err, 0);
	api_client_free(*c, NULL, NULL);
	*c = NULL;
}

static bool
client_gone(void *arg)
{
	return *(struct api_client **)arg == NULL;
}

/* Freeing cancels what is queued or in flight, and may happen inside a callback. */
static void
test_cancel_on_free(void **state)
{
	struct api_client_opts o = opts(http_srv.url);
	struct done d[5] = { 0 };
	struct api_client *c;

	(void)state;
	o.max_concurrent_requests = 8; /* two at a time */
	c = client(&o);
	assert_int_equal(api_call(c, "GET", "echo/first", NULL, free_in_callback, &c), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(api_call(c, "GET", "hang", NULL, on_done, &d[i]), 0);
	assert_int_equal(uvw_run_until(&loop, client_gone, &c, 120000), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(d[i].called, 1);
		assert_int_equal(d[i].err, -ECANCELED);
		assert_non_null(strstr(d[i].error, "shut down"));
	}
	done_clear(d, 5);
}

static void
on_identity(void *arg, int err, const char *uuid, const char *error)
{
	struct done *d = arg;

	d->called++;
	d->err = err;
	d->error = strdup(uuid != NULL ? uuid : error);
}

static void
test_identity(void **state)
{
	struct api_client_opts o = opts(http_srv.url);
	struct done d[2] = { 0 };
	struct api_client *c = client(&o);

	(void)state;
	assert_int_equal(api_identity_fetch(c, on_identity, &d[0]), 0);
	wait_all(d, 1);
	assert_int_equal(d[0].err, 0);
	assert_string_equal(d[0].error, "zzzzz-gj3su-000000000000000");
	client_free(c);
	o.token = "v2/zzzzz-gj3su-000000000000001/s3cr3tT0kenWrong";
	c = client(&o);
	assert_int_equal(api_identity_fetch(c, on_identity, &d[1]), 0);
	wait_all(&d[1], 1);
	assert_int_equal(d[1].err, -EREMOTEIO);
	assert_non_null(strstr(d[1].error, "401 Unauthorized: Not logged in"));
	assert_null(strstr(d[1].error, "s3cr3tT0kenWrong"));
	done_clear(d, 2);
	client_free(c);
}

static int
group_setup(void **state)
{
	(void)state;
	if (test_server_start(&http_srv, false, TOKEN) != 0)
		return -1;
	return test_server_start(&tls_srv, true, TOKEN) != 0 ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	test_server_stop(&http_srv);
	test_server_stop(&tls_srv);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_get_becomes_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_and_post_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_bodies_and_big_ints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_100_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_on_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
