/*
 * test_hostile_cloudd.c - a compromised cloudd may not grow the parent's memory without bound
 * (issue 12, defect 6). The binary re-executes itself (/proc/self/exe --fake-cloudd MODE) as
 * the child that dispatcherd/child.c supervises; the fake speaks the real protocol on fd 3:
 *   list    - answers CLOUD_LIST_REQ with parts flagged PROTO_F_MORE, without end;
 *   destroy - answers a one-id CLOUD_DESTROY_REQ with parts of 1,000 outcomes, without end;
 *   subnets - answers every CLOUD_STATS_REQ with 200 subnet ids never named before.
 * The parent must treat the excess as a protocol violation of cloudd (channel closed, the
 * request failed, the child restarted) after a bounded amount, not copy on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "cloudc.h"
#include "metrics.h"
#include "metrics_catalog.h"
#include "port_cloud.h"
#include "proto.h"
#include "proto_cloud.h"

/* ---- the fake cloudd (child side, blocking I/O on fd 3) ---- */

static int
fake_send(struct proto_wbuf *w)
{
	ssize_t n = send(3, w->data, w->len, MSG_NOSIGNAL);
	int ok = n == (ssize_t)w->len;

	proto_wbuf_free(w);
	return ok ? 0 : -1;
}

static void
fake_list_flood(uint32_t reqid)
{
	static struct proto_cloud_inst insts[200];
	static char ids[200][32];
	struct proto_cloud_list_ans a = { .insts = insts, .n = 200 };
	struct proto_wbuf w;

	for (int i = 0; i < 200; i++) {
		snprintf(ids[i], sizeof(ids[i]), "i-%08d", i);
		insts[i] = (struct proto_cloud_inst){ .id = ids[i],
						      .provider_type = "m5.large",
						      .address = "",
						      .private_address = "",
						      .subnet_id = "",
						      .state = "running",
						      .az = "",
						      .remote_user = "",
						      .host_key = "" };
	}
	for (;;) { /* until the parent closes the channel (or kills us) */
		if (proto_cloud_list_ans_encode(&w, reqid, PROTO_F_MORE, &a) != 0 ||
		    fake_send(&w) != 0)
			_exit(0);
	}
}

static void
fake_destroy_flood(uint32_t reqid)
{
	static char *ids[1000];
	static struct proto_cloud_err errs[1000];
	struct proto_cloud_destroy_ans a = { .ids = ids, .errs = errs, .n = 1000 };
	struct proto_wbuf w;

	for (int i = 0; i < 1000; i++) {
		ids[i] = "i-0";
		errs[i] = (struct proto_cloud_err){
			.instance_type = "", .quota_group = "", .code = "", .text = ""
		};
	}
	/* how far the flood got before the parent cut it (read by the test): one fixed-width
	 * pwrite per part, so a SIGKILL never leaves the file empty or torn */
	int cfd = getenv("ADC_FAKE_COUNT") ? open(getenv("ADC_FAKE_COUNT"), O_WRONLY) : -1;

	for (unsigned sent = 1;; sent++) {
		char line[16];

		/* counted before the send: a SIGKILL right after it still leaves the count */
		snprintf(line, sizeof(line), "%10u\n", sent);
		if (cfd >= 0 && pwrite(cfd, line, 11, 0) != 11)
			_exit(1);
		if (proto_cloud_destroy_ans_encode(&w, reqid, PROTO_F_MORE, &a) != 0 ||
		    fake_send(&w) != 0)
			_exit(0);
	}
}

static void
fake_stats(uint32_t reqid)
{
	static unsigned next;
	static char names[200][32];
	static struct proto_cloud_subnet_stats v[200];
	struct proto_cloud_stats_ans a = { .v = v, .n = 200 };
	struct proto_wbuf w;

	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "subnet-%u", next++);
		v[i] = (struct proto_cloud_subnet_stats){ .subnet_id = names[i], .instances = 1 };
	}
	if (proto_cloud_stats_ans_encode(&w, reqid, &a) != 0 || fake_send(&w) != 0)
		_exit(0);
}

static int
fake_cloudd(const char *mode)
{
	static uint8_t buf[PROTO_MAX_MSG];

	for (;;) {
		struct proto_msg m = { .fd = -1 };
		struct proto_wbuf w;
		ssize_t n = recv(3, buf, sizeof(buf), 0);

		if (n <= 0 || proto_hdr_parse(buf, (size_t)n, &m.hdr) != 0)
			return 0;
		m.payload = buf + PROTO_HDR_LEN;
		m.payload_len = (size_t)n - PROTO_HDR_LEN;
		switch (m.hdr.type) {
		case PROTO_HELLO_REQ: {
			struct proto_hello h;

			if (proto_hello_decode(&m, &h) != 0)
				return 1;
			h.pid = (uint32_t)getpid();
			if (proto_hello_encode(&w, PROTO_HELLO_ANS, m.hdr.reqid, &h) != 0 ||
			    fake_send(&w) != 0)
				return 1;
			proto_hello_free(&h);
			break;
		}
		case PROTO_PING_REQ: {
			struct proto_ping p;

			if (proto_ping_decode(&m, &p) != 0 ||
			    proto_ping_encode(&w, PROTO_PING_ANS, m.hdr.reqid, &p) != 0 ||
			    fake_send(&w) != 0)
				return 1;
			break;
		}
		case PROTO_CLOUD_INIT_REQ: {
			struct proto_status s = { PROTO_OK, "" };

			if (strcmp(mode, "init-more") == 0) {
				/* the init answer twice: in "parts", as only streams may come */
				if (proto_status_encode(&w, PROTO_CLOUD_INIT_ANS, m.hdr.reqid,
							&s) != 0)
					return 1;
				proto_wbuf_set_flags(&w, PROTO_F_MORE);
				if (fake_send(&w) != 0)
					return 0;
			}
			if (proto_status_encode(&w, PROTO_CLOUD_INIT_ANS, m.hdr.reqid, &s) != 0 ||
			    fake_send(&w) != 0)
				return 0;
			break;
		}
		case PROTO_CLOUD_LIST_REQ:
			if (strcmp(mode, "list") == 0)
				fake_list_flood(m.hdr.reqid);
			break;
		case PROTO_CLOUD_DESTROY_REQ:
			if (strcmp(mode, "destroy") == 0)
				fake_destroy_flood(m.hdr.reqid);
			break;
		case PROTO_CLOUD_STATS_REQ:
			if (strcmp(mode, "subnets") == 0)
				fake_stats(m.hdr.reqid);
			break;
		default:
			break;
		}
		if (m.hdr.flags & PROTO_F_FD) /* the secret fd of init: closed by the kernel */
			continue;
	}
}

/* ---- the parent side ---- */

static uv_loop_t loop;
static struct child *cloudd;
static const char *self_exe = "/proc/self/exe";

static int
build_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct proto_cloud_init m = { .driver = "loopback",
				      .driver_params_json = "",
				      .instance_set_id = "zzzzz-test",
				      .tag_key_prefix = "Arvados" };

	(void)c, (void)arg;
	return proto_cloud_init_encode(w, 0, 0, &m);
}

static int
check_init(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	(void)c, (void)m, (void)why, (void)len, (void)arg;
	return 0;
}

static void
timer_cb(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Run the loop until *flag or ms pass; *flag's value. */
static bool
run_until(const bool *flag, unsigned ms)
{
	uv_timer_t t;
	bool expired = false;

	uv_timer_init(&loop, &t);
	t.data = &expired;
	uv_timer_start(&t, timer_cb, ms, 0);
	while (!*flag && !expired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	return *flag;
}

static bool
wait_ready(unsigned starts)
{
	for (int i = 0; i < 500; i++) {
		bool never = false;

		if (child_state(cloudd) == CHILD_READY && child_starts(cloudd) >= starts)
			return true;
		run_until(&never, 20);
	}
	return false;
}

static int ready_calls;

static void
on_ready(struct child *c, void *arg)
{
	(void)c, (void)arg;
	ready_calls++;
}

static void
start_fake_nowait(const char *mode)
{
	static const char *args[3];

	args[0] = "--fake-cloudd";
	args[1] = mode;
	args[2] = NULL;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct child_spec spec = { .name = "cloudd",
				   .role = PROTO_ROLE_CLOUDD,
				   .path = self_exe,
				   .args = args,
				   .secret_fd = -1,
				   .build_init = build_init,
				   .check_init = check_init,
				   .on_ready = on_ready };
	ready_calls = 0;
	assert_non_null(cloudd = child_new(&loop, &spec));
}

static void
start_fake(const char *mode)
{
	start_fake_nowait(mode);
	assert_true(wait_ready(1));
}

static void
stopped(void *arg)
{
	*(bool *)arg = true;
}

static void
stop_fake(void)
{
	bool done = false;

	child_stop(cloudd, 2000, stopped, &done);
	assert_true(run_until(&done, 10000));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

struct list_obs {
	size_t parts, insts;
	bool done;
	int32_t status;
};

static void
list_part(void *arg, const struct proto_cloud_inst *insts, size_t n)
{
	struct list_obs *o = arg;

	(void)insts;
	o->parts++;
	o->insts += n;
	if (o->insts > 4 * (size_t)PROTO_MAX_LIST_INSTANCES)
		o->done = true; /* without a cap this would go on: stop looking, then fail */
}

static void
list_done(void *arg, const struct proto_cloud_err *err)
{
	struct list_obs *o = arg;

	o->done = true;
	o->status = err->status;
}

static void
test_list_flood(void **state)
{
	struct list_obs o = { 0 };
	char *k = "Arvados-InstanceSetID", *v = "zzzzz-test";
	struct proto_cloud_tags f = { &k, &v, 1 };

	(void)state;
	start_fake("list");
	assert_int_equal(cloudc_list(cloudd, &f, 60000, list_part, list_done, &o), 0);
	assert_true(run_until(&o.done, 60000));
	print_message("    list flood: %zu parts, %zu instances delivered before the cut\n",
		      o.parts, o.insts);
	assert_true(o.insts <= PROTO_MAX_LIST_INSTANCES);
	assert_int_equal(o.status, PROTO_E_RETRY); /* the channel closed under the request */
	assert_true(wait_ready(2));		   /* and cloudd was restarted */
	stop_fake();
}

struct destroy_obs {
	bool done;
	int32_t status;
	size_t n;
};

static void
destroy_done(void *arg, const struct proto_cloud_err *err, size_t n, char *const *ids,
	     const struct proto_cloud_err *errs)
{
	struct destroy_obs *o = arg;

	(void)ids, (void)errs;
	o->done = true;
	o->status = err->status;
	o->n = n;
}

static void
test_destroy_flood(void **state)
{
	struct destroy_obs o = { 0 };
	const char *ids[] = { "i-0" };

	char path[] = "/tmp/adc-fake-count-XXXXXX";
	unsigned sent = 0;
	FILE *f;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "         0\n", 11), 11);
	close(fd);
	setenv("ADC_FAKE_COUNT", path, 1);
	start_fake("destroy");
	assert_int_equal(cloudc_destroy(cloudd, ids, 1, 60000, destroy_done, &o), 0);
	assert_true(run_until(&o.done, 60000));
	assert_int_equal(o.status, PROTO_E_RETRY);
	assert_true(wait_ready(2));
	stop_fake();
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fscanf(f, "%u", &sent), 1);
	fclose(f);
	unlink(path);
	unsetenv("ADC_FAKE_COUNT");
	print_message(
		"    destroy flood: cloudd sent at most %u parts of 1,000 outcomes for 1 id\n",
		sent);
	/* cut at the first part over the one id asked; what the socket buffer held besides */
	assert_true(sent >= 1 && sent < 64);
}

static size_t
count_series(struct metrics_registry *m, const char *prefix)
{
	char *text, *p;
	size_t len, n = 0;

	assert_int_equal(metrics_render_text(m, &text, &len), 0);
	for (p = text; (p = strstr(p, prefix)) != NULL; p++)
		n += p == text || p[-1] == '\n';
	free(text);
	return n;
}

static void
test_endless_subnets(void **state)
{
	struct metrics_registry *m = metrics_new();
	struct metrics_catalog_init in = { .version = "test",
					   .max_concurrent_requests = 1,
					   .max_queued_requests = 1,
					   .max_gateway_tunnels = 1,
					   .ec2 = true };
	struct port_cloud pc = { .cloudd = &cloudd, .timeout_ms = 10000, .metrics = m };
	unsigned starts;

	(void)state;
	assert_non_null(m);
	assert_int_equal(metrics_catalog_register(m, &in), 0);
	start_fake("subnets");
	/* each answer names 200 new subnets: the second passes the cap of 256 */
	for (int round = 0; round < 6; round++) {
		bool never = false;

		starts = child_starts(cloudd);
		if (child_state(cloudd) == CHILD_READY)
			port_cloud_stats(&pc);
		run_until(&never, 300);
	}
	size_t series = count_series(m, "arvados_dispatchcloud_ec2_instances{");
	print_message("    endless subnets: %zu ec2_instances series, %u cloudd starts\n", series,
		      child_starts(cloudd));
	assert_true(series <= PORT_CLOUD_MAX_SUBNETS);
	assert_true(child_starts(cloudd) >= 2 || starts >= 2); /* the violation restarted it */
	stop_fake();
	port_cloud_free(&pc);
	metrics_free(m);
}

/* An init answer flagged PROTO_F_MORE (defect 1's HELLO/INIT case): a violation, so the child
 * never becomes ready on it and on_ready never runs (it ran twice, once per "part"). */
static void
test_init_answer_in_parts(void **state)
{
	bool never = false;

	(void)state;
	start_fake_nowait("init-more");
	run_until(&never, 1500); /* one restart after the 1 s back-off */
	print_message("    init answer in parts: %u starts, on_ready ran %d times\n",
		      child_starts(cloudd), ready_calls);
	assert_int_equal(ready_calls, 0);
	assert_true(child_starts(cloudd) >= 2);
	stop_fake();
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_flood),
		cmocka_unit_test(test_destroy_flood),
		cmocka_unit_test(test_endless_subnets),
		cmocka_unit_test(test_init_answer_in_parts),
	};

	if (argc == 3 && strcmp(argv[1], "--fake-cloudd") == 0)
		return fake_cloudd(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
