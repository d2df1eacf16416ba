/*
 * test_http.c - the management server on a real libuv loop and a real socket, driven by libcurl:
 * every route with and without the token, the error statuses and texts of spec 7, limits,
 * slow clients, many connections, promtool on /metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch_gate.h"
#include "mgmt_fixture.h"

#define TOKEN	       "s3cret-management-token"
#define AUTH	       "Authorization: Bearer " TOKEN
#define NOT_CONFIGURED "Management API authentication is not configured\n"

static char base[64];

static struct fixture *
start(const struct fixture_opts *o)
{
	struct fixture *f = calloc(1, sizeof(*f));
	fixture_start(f, o);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", f->port);
	return f;
}

static void
stop(struct fixture *f)
{
	fixture_stop(f);
	free(f);
}

/* One call; checks status and, when want_body is not NULL, the exact body. */
static void
expect(const char *method, const char *path, const char *hdr, const char *body, long status,
       const char *want_body)
{
	const char *h[] = { hdr, NULL };
	struct reply r;
	http_call(base, method, path, hdr ? h : NULL, body, &r);
	if (r.curl_rc || r.status != status || (want_body && strcmp(r.body, want_body)))
		fail_msg("%s %s (%s): curl %d status %ld body [%s], want %ld [%s]", method, path,
			 hdr ? hdr : "no auth", r.curl_rc, r.status, r.body, status,
			 want_body ? want_body : "*");
	reply_free(&r);
}

static const char *const dispatch_routes[][2] = {
	{ "GET", "/arvados/v1/dispatch/containers" },
	{ "GET", "/arvados/v1/dispatch/container?container_uuid=" FAKE_CTR },
	{ "POST", "/arvados/v1/dispatch/containers/kill?container_uuid=" FAKE_CTR },
	{ "GET", "/arvados/v1/dispatch/instances" },
	{ "POST", "/arvados/v1/dispatch/instances/hold?instance_id=" FAKE_INST },
	{ "POST", "/arvados/v1/dispatch/instances/drain?instance_id=" FAKE_INST },
	{ "POST", "/arvados/v1/dispatch/instances/run?instance_id=" FAKE_INST },
	{ "POST", "/arvados/v1/dispatch/instances/kill?instance_id=" FAKE_INST },
	{ "GET", "/metrics" },
	{ "GET", "/metrics.json" },
	{ "GET", "/no/such/route" },
};
#define NROUTES (sizeof(dispatch_routes) / sizeof(dispatch_routes[0]))

/* Weakness 24: no token configured means nothing is served, metrics included. */
static void
test_no_token_configured(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = "", .fake_providers = true });
	for (size_t i = 0; i < NROUTES; i++) {
		expect(dispatch_routes[i][0], dispatch_routes[i][1], NULL, NULL, 403,
		       NOT_CONFIGURED);
		expect(dispatch_routes[i][0], dispatch_routes[i][1], "Authorization: Bearer ", NULL,
		       403, NOT_CONFIGURED);
	}
	expect("GET", "/_health/ping", NULL, NULL, 404, "disabled\n");
	expect("GET", "/_health/ping", "Authorization: Bearer x", NULL, 404, "disabled\n");
	expect("GET", "/_inspect/requests", NULL, NULL, 401, "{\"errors\":[\"unauthorized\"]}\n");
	assert_int_equal(f->fake.calls, 0);
	stop(f);
}

static void
test_missing_and_wrong_token(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .fake_providers = true });
	for (size_t i = 0; i < NROUTES; i++) {
		const char *m = dispatch_routes[i][0], *p = dispatch_routes[i][1];
		expect(m, p, NULL, NULL, 401, "Unauthorized\n");
		expect(m, p, "Authorization: Bearer wrong", NULL, 403, "Forbidden\n");
		expect(m, p, "Authorization: Bearer " TOKEN "x", NULL, 403, "Forbidden\n");
		/* Tokens in cookies, query strings or Basic auth are not read (weakness 24). */
		expect(m, p, "Cookie: arvados_api_token=" TOKEN, NULL, 401, "Unauthorized\n");
		expect(m, p, "Authorization: Basic dXNlcjpzM2NyZXQtbWFuYWdlbWVudC10b2tlbg==", NULL,
		       401, "Unauthorized\n");
	}
	expect("GET", "/arvados/v1/dispatch/instances?api_token=" TOKEN, NULL, NULL, 401,
	       "Unauthorized\n");
	expect("GET", "/_health/ping", NULL, NULL, 401, "authorization required\n");
	expect("GET", "/_health/ping", "Authorization: Bearer nope", NULL, 403,
	       "authorization error\n");
	expect("GET", "/_health/ping", "Authorization: OAuth2 " TOKEN, NULL, 403,
	       "authorization error\n");
	expect("GET", "/_inspect/requests", "Authorization: Bearer nope", NULL, 401,
	       "{\"errors\":[\"unauthorized\"]}\n");
	assert_int_equal(f->fake.calls, 0);
	stop(f);
}

static void
test_routes_empty_pool(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN });
	expect("GET", "/arvados/v1/dispatch/containers", AUTH, NULL, 200, "{\"items\":[]}\n");
	expect("GET", "/arvados/v1/dispatch/instances", AUTH, NULL, 200, "{\"items\":[]}\n");
	expect("GET", "/arvados/v1/dispatch/container?container_uuid=" FAKE_CTR, AUTH, NULL, 404,
	       "{\"errors\":[\"container not found\"]}\n");
	expect("POST", "/arvados/v1/dispatch/containers/kill?container_uuid=" FAKE_CTR, AUTH, NULL,
	       404, "{\"errors\":[\"container not found\"]}\n");
	expect("POST", "/arvados/v1/dispatch/instances/hold?instance_id=" FAKE_INST, AUTH, NULL,
	       404, "{\"errors\":[\"requested instance does not exist\"]}\n");
	expect("POST", "/arvados/v1/dispatch/instances/kill?instance_id=" FAKE_INST, AUTH, NULL,
	       404, "{\"errors\":[\"instance not found\"]}\n");
	expect("GET", "/_health/ping", AUTH, NULL, 200, "{\"health\":\"OK\"}\n");
	f->health_error = "runner binary not loaded";
	expect("GET", "/_health/ping", AUTH, NULL, 200,
	       "{\"health\":\"ERROR\",\"error\":\"runner binary not loaded\"}\n");
	stop(f);
}

static void
test_routes_with_providers(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .fake_providers = true });
	struct reply r;
	const char *h[] = { AUTH, NULL };
	http_call(base, "GET", "/arvados/v1/dispatch/containers", h, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: application/json"));
	assert_string_equal(
		r.body,
		"{\"items\":[{\"container\":{\"uuid\":\"" FAKE_CTR
		"\",\"state\":\"Queued\"},\"scheduling_status\":\"Waiting in queue.\"}]}\n");
	reply_free(&r);
	expect("GET", "/arvados/v1/dispatch/container?container_uuid=" FAKE_CTR, AUTH, NULL, 200,
	       "{\"container\":{\"uuid\":\"" FAKE_CTR "\"}}\n");
	expect("GET", "/arvados/v1/dispatch/container", AUTH, NULL, 404,
	       "{\"errors\":[\"container not found\"]}\n");
	expect("GET", "/arvados/v1/dispatch/container?container_uuid=zzzzz-dz642-other", AUTH, NULL,
	       404, "{\"errors\":[\"container not found\"]}\n");
	expect("POST", "/arvados/v1/dispatch/containers/kill", AUTH, NULL, 400,
	       "{\"errors\":[\"container_uuid parameter not provided\"]}\n");
	expect("POST",
	       "/arvados/v1/dispatch/containers/kill?container_uuid=" FAKE_CTR "&reason=oom", AUTH,
	       NULL, 200, "");
	assert_string_equal(f->fake.last_reason, "via management API: oom");
	expect("GET", "/arvados/v1/dispatch/instances", AUTH, NULL, 200,
	       "{\"items\":[{\"instance\":\"" FAKE_INST "\",\"worker_state\":\"idle\"}]}\n");
	static const char *const acts[] = { "hold", "drain", "run", "kill" };
	for (int i = 0; i < 4; i++) {
		char p[128];
		snprintf(p, sizeof(p), "/arvados/v1/dispatch/instances/%s", acts[i]);
		expect("POST", p, AUTH, NULL, 400,
		       "{\"errors\":[\"instance_id parameter not provided\"]}\n");
		expect("POST", p, AUTH, "instance_id=i-unknown", 404,
		       i == 3 ? "{\"errors\":[\"instance not found\"]}\n"
			      : "{\"errors\":[\"requested instance does not exist\"]}\n");
		/* The parameter in a form body, as the reference's FormValue takes it. */
		expect("POST", p, AUTH, "instance_id=" FAKE_INST "&reason=a%20b", 200, "");
		assert_int_equal(f->fake.last_action, (enum mgmt_instance_action)i);
		assert_string_equal(f->fake.last_id, FAKE_INST);
		assert_string_equal(f->fake.last_reason, i == 3 ? "via management API: a b" : "");
	}
	stop(f);
}

static void
test_method_and_route_errors(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .fake_providers = true });
	struct reply r;
	const char *h[] = { AUTH, NULL };
	http_call(base, "GET", "/arvados/v1/dispatch/containers/kill", h, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.body, "Method Not Allowed\n");
	assert_non_null(strstr(r.headers, "Allow: POST\r\n"));
	reply_free(&r);
	http_call(base, "POST", "/metrics", h, NULL, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.headers, "Allow: GET\r\n"));
	reply_free(&r);
	expect("DELETE", "/arvados/v1/dispatch/instances", AUTH, NULL, 405, "Method Not Allowed\n");
	expect("GET", "/arvados/v1/dispatch/nope", AUTH, NULL, 404, "404 page not found\n");
	expect("GET", "/", AUTH, NULL, 404, "404 page not found\n");
	expect("GET", "/_health/other", AUTH, NULL, 404, "not found\n");
	expect("HEAD", "/metrics", AUTH, NULL, 200, "");
	/* X-Request-Id: echoed when sent, made up otherwise. */
	const char *h2[] = { AUTH, "X-Request-Id: req-testing123", NULL };
	http_call(base, "GET", "/_health/ping", h2, NULL, &r);
	assert_non_null(strstr(r.headers, "X-Request-Id: req-testing123\r\n"));
	reply_free(&r);
	http_call(base, "GET", "/_health/ping", h, NULL, &r);
	char *id = strstr(r.headers, "X-Request-Id: req-");
	assert_non_null(id);
	assert_int_equal(strcspn(id + 14, "\r"), 24);
	reply_free(&r);
	stop(f);
}

static void
test_inspect(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN });
	struct reply r;
	const char *h[] = { AUTH, NULL };
	http_call(base, "GET", "/_inspect/requests?x=1", h, NULL, &r);
	assert_int_equal(r.status, 200);
	cJSON *a = cJSON_Parse(r.body);
	assert_true(cJSON_IsArray(a));
	/* The inspect request itself is in flight. */
	cJSON *e = cJSON_GetArrayItem(a, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "URL")->valuestring, "/_inspect/requests?x=1");
	assert_string_equal(cJSON_GetObjectItem(e, "Method")->valuestring, "GET");
	assert_non_null(strstr(cJSON_GetObjectItem(e, "RemoteAddr")->valuestring, "127.0.0.1:"));
	cJSON_Delete(a);
	reply_free(&r);
	stop(f);
}

static void
test_limits(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .fake_providers = true });
	size_t big = 64 * 1024;
	char *hdr = malloc(big + 32);
	memset(hdr, 'a', big + 32);
	memcpy(hdr, "X-Big: ", 7);
	hdr[big + 31] = 0;
	struct reply r;
	const char *h[] = { AUTH, hdr, NULL };
	http_call(base, "GET", "/_health/ping", h, NULL, &r);
	/* MHD refuses the head itself: 431 (or 413 in older releases), with a reason in the body. */
	if (r.status != 431 && r.status != 413)
		fail_msg("64 KiB header: status %ld", r.status);
	assert_true(strlen(r.body) > 0);
	reply_free(&r);
	/* A long URL is refused too. */
	char *url = malloc(big + 64);
	snprintf(url, big + 64, "/arvados/v1/dispatch/container?container_uuid=%s", hdr + 7);
	http_call(base, "GET", url, h + 0, NULL, &r);
	assert_true(r.status >= 400 && r.status < 500);
	reply_free(&r);
	/* An oversized body is refused before it is read. */
	char *body = malloc(big + 32);
	memset(body, 'x', big + 31);
	memcpy(body, "instance_id=", 12);
	body[big + 31] = 0;
	http_call(base, "POST", "/arvados/v1/dispatch/instances/hold",
		  (const char *[]){ AUTH, NULL }, body, &r);
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "request body too large"));
	reply_free(&r);
	expect("POST", "/arvados/v1/dispatch/instances/hold", AUTH, NULL, 400, NULL);
	const char *ch[] = { AUTH, "Transfer-Encoding: chunked", NULL };
	http_call(base, "POST", "/arvados/v1/dispatch/instances/hold", ch, "instance_id=i-0abc",
		  &r);
	assert_int_equal(r.status, 411);
	reply_free(&r);
	assert_int_equal(f->fake.calls, 0);
	/* Still serving. */
	expect("GET", "/_health/ping", AUTH, NULL, 200, "{\"health\":\"OK\"}\n");
	free(hdr);
	free(url);
	free(body);
	stop(f);
}

static int
connect_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Everything the peer sends until it closes (or 30 s of silence, which fails the caller). */
static size_t
read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 30000) != 1)
			return n;
		ssize_t k = read(fd, buf + n, len - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = 0;
	return n;
}

static void
test_slow_client(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN });
	const char *req = "GET /_health/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			  "Authorization: Bearer " TOKEN "\r\n\r\n";
	int fd = connect_port(f->port);
	/* One byte at a time; between bytes, complete requests on other connections must be
	 * answered while this one is still pending. */
	for (size_t i = 0; req[i]; i++) {
		assert_int_equal(write(fd, &req[i], 1), 1);
		if (i % 16 == 0) {
			expect("GET", "/_health/ping", AUTH, NULL, 200, "{\"health\":\"OK\"}\n");
			usleep(100 * 1000);
		}
	}
	char buf[4096];
	read_all(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "{\"health\":\"OK\"}"));
	close(fd);
	stop(f);
}

static void
test_header_deadline(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .header_timeout_s = 1 });
	int fd = connect_port(f->port);
	assert_int_equal(write(fd, "GET /_health/ping HT", 20), 20);
	/* The server closes it without a response (no timing asserted: only that it happens). */
	char buf[256];
	assert_int_equal(read_all(fd, buf, sizeof(buf)), 0);
	close(fd);
	expect("GET", "/_health/ping", AUTH, NULL, 200, NULL);
	stop(f);
}

/* A connection from a given loopback source address (127.0.0.2 is another client than curl's
 * 127.0.0.1 to the server's per-address limit); -1 when the server refused it at once. */
static int
connect_from(int port, const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, src, &a.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	d.sin_port = htons((uint16_t)port);
	d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&d, sizeof(d)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Issue 12, defect 3: 1,200 connections from one address, each a POST head without a token
 * and then a body byte every 2 s. Unauthorised heads are answered (401) before any body is
 * read, and one address cannot fill the connection limit, so an authorised client's
 * /_health/ping keeps being answered, and quickly. */
static void
test_starvation_from_one_address(void **state)
{
	(void)state;
	enum { N = 1200, ROUNDS = 3 };
	struct rlimit rl;
	const char *head = "POST /arvados/v1/dispatch/instances/hold?instance_id=" FAKE_INST
			   " HTTP/1.1\r\nHost: x\r\n"
			   "Content-Type: application/x-www-form-urlencoded\r\n"
			   "Content-Length: 1000\r\n\r\n";
	static int fds[N];
	int connected = 0, got401 = 0, refused = 0, open_end = 0, pings = 0;
	double worst = 0, sum = 0;
	/* 1,200 client sockets and up to 1,000 server ones in this one process */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 4096)
		fail_msg("RLIMIT_NOFILE hard limit %llu: this test needs 4096 descriptors",
			 (unsigned long long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 8192 ? 8192 : rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .fake_providers = true });
	double t0 = now_s();
	for (int i = 0; i < N; i++) {
		fds[i] = connect_from(f->port, "127.0.0.2");
		if (fds[i] < 0)
			continue;
		connected++;
		if (send(fds[i], head, strlen(head), MSG_NOSIGNAL) < 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	print_message("    %d of %d attacker connections accepted by the kernel in %.2f s\n",
		      connected, N, now_s() - t0);
	/* What each is told: a 401 before its body, or a close at once (over the per-address
	 * limit). Waited for, connection by connection: a fixed 500 ms sleep here failed under
	 * load (913 of 1,200 answered by then; issue 18). */
	double deadline = now_s() + 60;
	for (int i = 0; i < N; i++) {
		char buf[512];
		ssize_t n;
		struct pollfd p = { fds[i], POLLIN, 0 };
		int left = (int)((deadline - now_s()) * 1000);

		if (fds[i] < 0 || poll(&p, 1, left > 0 ? left : 0) != 1)
			continue; /* no answer at all: neither counted, the sum check fails */
		n = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n > 0) {
			buf[n] = 0;
			got401 += strstr(buf, "HTTP/1.1 401") != NULL;
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			refused++; /* over the per-address limit: closed at once */
		}
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* authorised pings from 127.0.0.1 while the attack holds */
		for (int k = 0; k < 4; k++) {
			const char *h[] = { AUTH, NULL };
			struct reply r;
			double a = now_s();
			http_call(base, "GET", "/_health/ping", h, NULL, &r);
			double d = now_s() - a;
			if (r.curl_rc || r.status != 200)
				fail_msg("ping %d during the attack: curl %d status %ld", pings,
					 r.curl_rc, r.status);
			reply_free(&r);
			pings++;
			sum += d;
			worst = d > worst ? d : worst;
			usleep(400 * 1000);
		}
		for (int i = 0; i < N; i++) /* one body byte each, 2 s apart */
			if (fds[i] >= 0 && send(fds[i], "a", 1, MSG_NOSIGNAL) < 0) {
				close(fds[i]);
				fds[i] = -1;
			}
	}
	for (int i = 0; i < N; i++) {
		char buf[512];
		if (fds[i] < 0)
			continue;
		if (recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			open_end++; /* no answer and still open: holding a slot */
		close(fds[i]);
	}
	print_message("    attacker connections: %d answered 401 before their body, %d closed at "
		      "once (per-address limit), %d silent and open at the end\n",
		      got401, refused, open_end);
	print_message("    %d authorised pings during the attack: mean %.1f ms, worst %.1f ms\n",
		      pings, sum / pings * 1000, worst * 1000);
	/* Every ping was answered 200 (above) while the attackers' connections were open: the
	 * property. Their latency is a figure, printed, not asserted (a shared machine's load
	 * moves it; a starved server would not answer within curl's 30 s at all). */
	assert_int_equal(open_end, 0);
	assert_int_equal(got401 + refused, connected);
	stop(f);
}

/* A request's total deadline: an authorised client trickling its body is cut off. */
static void
test_request_deadline(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){
		.token = TOKEN, .fake_providers = true, .request_timeout_s = 2 });
	const char *head = "POST /arvados/v1/dispatch/instances/hold?instance_id=" FAKE_INST
			   " HTTP/1.1\r\nHost: x\r\n" AUTH "\r\n"
			   "Content-Type: application/x-www-form-urlencoded\r\n"
			   "Content-Length: 100\r\n\r\n";
	int fd = connect_port(f->port);
	double t0 = now_s(), cut = 0;
	assert_int_equal(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
	/* 100 bytes at one per 250 ms would take 25 s; the deadline is 2 s */
	for (int i = 0; i < 100; i++) {
		char b;
		struct pollfd p = { fd, POLLIN, 0 };
		if (send(fd, "a", 1, MSG_NOSIGNAL) < 0 ||
		    (poll(&p, 1, 250) == 1 && recv(fd, &b, 1, 0) <= 0)) {
			cut = now_s() - t0;
			break;
		}
	}
	print_message("    trickled body cut after %.2f s (request deadline 2 s)\n", cut);
	/* Cut before the 25 s trickle ended (the loop broke), never before the deadline (load
	 * only delays a timer); how late after it is a figure, not asserted. */
	assert_true(cut > 1.5);
	close(fd);
	expect("GET", "/_health/ping", AUTH, NULL, 200, NULL);
	stop(f);
}

static void
test_many_connections(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN });
	enum { N = 300 };
	CURLM *m = curl_multi_init();
	CURL *e[N];
	struct curl_slist *h = curl_slist_append(NULL, AUTH);
	char url[128];
	snprintf(url, sizeof(url), "%s/_health/ping", base);
	FILE *devnull = fopen("/dev/null", "w");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	for (int i = 0; i < N; i++) {
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e[i], CURLOPT_WRITEDATA, devnull);
		curl_easy_setopt(e[i], CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 60L);
		curl_multi_add_handle(m, e[i]);
	}
	int running = 1;
	while (running) {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	int ok = 0;
	for (int i = 0; i < N; i++) {
		long st = 0;
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &st);
		ok += st == 200;
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
	fclose(devnull);
	assert_int_equal(ok, N);
	stop(f);
}

static void
test_promtool(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN });
	/* Some traffic first, so request_duration_seconds has series. */
	expect("GET", "/_health/ping", AUTH, NULL, 200, NULL);
	expect("GET", "/nope", AUTH, NULL, 404, NULL);
	struct reply r;
	const char *h[] = { AUTH, NULL };
	http_call(base, "GET", "/metrics", h, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(r.body, "\narvados_dispatchcloud_containers_running 0\n"));
	assert_non_null(
		strstr(r.body, "request_duration_seconds_count{code=\"404\",method=\"get\"} 1\n"));
	char path[] = "/tmp/mgmt-metrics-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, r.body, strlen(r.body)), (ssize_t)strlen(r.body));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1", path, path);
	int st = system(cmd);
	char out[8192] = "";
	snprintf(cmd, sizeof(cmd), "%s.out", path);
	FILE *o = fopen(cmd, "r");
	if (o) {
		out[fread(out, 1, sizeof(out) - 1, o)] = 0;
		fclose(o);
	}
	print_message("promtool check metrics (exit %d):\n%s", WEXITSTATUS(st), out);
	unlink(path);
	unlink(cmd);
	/* promtool exits 1 for a parse error and 3 for lint findings. The only lint findings
	 * allowed are about the reference's own names (counters without _total, gauges with it),
	 * which dashboards use and spec 8 fixes. */
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 1);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, "counter metrics should have \"_total\" suffix") &&
		    (strstr(line, "arvados_dispatchcloud_driver_operations") ||
		     strstr(line, "arvados_dispatchcloud_boot_outcomes") ||
		     strstr(line, "arvados_dispatchcloud_instances_disappeared")))
			continue;
		if (strstr(line, "non-counter metrics should not have \"_total\" suffix") &&
		    (strstr(line, "arvados_dispatchcloud_memory_bytes_total") ||
		     strstr(line, "arvados_dispatchcloud_vcpus_total") ||
		     strstr(line, "arvados_dispatchcloud_instances_total")))
			continue;
		fail_msg("unexpected promtool finding: %s", line);
	}
	reply_free(&r);
	/* /metrics.json is a JSON array of families. */
	http_call(base, "GET", "/metrics.json", h, NULL, &r);
	cJSON *a = cJSON_Parse(r.body);
	assert_true(cJSON_IsArray(a) && cJSON_GetArraySize(a) > 30);
	cJSON_Delete(a);
	reply_free(&r);
	stop(f);
}

/* A standby (issue 15) lists and answers health, but refuses actions with 503 and never
 * reaches the providers: its records are not the active dispatcher's. */
static void
test_actions_refused_while_standby(void **state)
{
	(void)state;
	struct fixture *f = start(&(struct fixture_opts){ .token = TOKEN, .fake_providers = true });
	dispatch_gate_set_reason("lock held by 127.0.0.1:40000");
	dispatch_gate_set(false);
	const char *standby = "{\"errors\":[\"this dispatcher is a standby: lock held by "
			      "127.0.0.1:40000; send actions to the active one\"]}\n";
	expect("POST", "/arvados/v1/dispatch/containers/kill?container_uuid=" FAKE_CTR, AUTH, NULL,
	       503, standby);
	expect("POST", "/arvados/v1/dispatch/instances/hold?instance_id=" FAKE_INST, AUTH, NULL,
	       503, standby);
	expect("POST", "/arvados/v1/dispatch/instances/drain?instance_id=" FAKE_INST, AUTH, NULL,
	       503, standby);
	expect("POST", "/arvados/v1/dispatch/instances/kill?instance_id=" FAKE_INST, AUTH, NULL,
	       503, standby);
	int acted = f->fake.calls;
	expect("GET", "/arvados/v1/dispatch/containers", AUTH, NULL, 200, NULL);
	expect("GET", "/_health/ping", AUTH, NULL, 200, "{\"health\":\"OK\"}\n");
	/* Missing parameters are still the caller's error first. */
	expect("POST", "/arvados/v1/dispatch/instances/hold", AUTH, NULL, 400, NULL);
	dispatch_gate_set(true);
	assert_int_equal(acted, 0);
	expect("POST", "/arvados/v1/dispatch/instances/hold?instance_id=" FAKE_INST, AUTH, NULL,
	       200, "");
	assert_int_equal(f->fake.calls, 1);
	stop(f);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_token_configured),
		cmocka_unit_test(test_missing_and_wrong_token),
		cmocka_unit_test(test_routes_empty_pool),
		cmocka_unit_test(test_routes_with_providers),
		cmocka_unit_test(test_actions_refused_while_standby),
		cmocka_unit_test(test_method_and_route_errors),
		cmocka_unit_test(test_inspect),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_header_deadline),
		cmocka_unit_test(test_many_connections),
		cmocka_unit_test(test_starvation_from_one_address),
		cmocka_unit_test(test_request_deadline),
		cmocka_unit_test(test_promtool),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
