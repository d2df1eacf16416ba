/*
 * test_cloudglue_ec2.c - end to end: the real cloudd binary (sandbox on), started through
 * dispatcherd/helpers/child.c on a libuv loop, driven through cloudc_* against fake_ec2 over HTTPS
 * (test CA via AWS_CA_BUNDLE, endpoint via AWS_ENDPOINT_URL_EC2, keys only in the secret
 * blob's "Env"), checked on the fake's control API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "glue.h"
#include "harness.h"

static struct fake F;
static struct glue G;

#define SECRET                                              \
	"{\"DriverParameters\":{\"Region\":\"us-east-1\"}," \
	"\"Env\":{\"AWS_ACCESS_KEY_ID\":\"AKIDEXAMPLE\","   \
	"\"AWS_SECRET_ACCESS_KEY\":\"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"}}"

static const char *pubkey =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQNIwP6vJ0IIm6rTW0yQHfuCiXR4Zgy+xFCiDTCxW4b test";

static int
setup(void **state)
{
	const char *args[] = { "--subnet-cidr", "127.8.0.0/20", NULL };

	(void)state;
	if (fake_start(&F, NULL, args) != 0)
		return -1;
	setenv("AWS_CA_BUNDLE", F.ca, 1);
	setenv("AWS_ENDPOINT_URL_EC2", F.endpoint, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return glue_start(&G, "ec2", SECRET);
}

static int
teardown(void **state)
{
	(void)state;
	glue_stop(&G);
	fake_stop(&F);
	return 0;
}

static cJSON *
fake_inst(const char *id)
{
	char p[300];

	snprintf(p, sizeof(p), "/_fake/instances/%s", id);
	return fake_ctl(&F, "GET", p, NULL);
}

static const char *
jstr(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(j, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *
jtag(const cJSON *inst, const char *key)
{
	const cJSON *tags = cJSON_GetObjectItem(inst, "tags"), *t;

	if (cJSON_IsObject(tags))
		return jstr(tags, key);
	cJSON_ArrayForEach(t, tags) if (strcmp(jstr(t, "Key"), key) == 0) return jstr(t, "Value");
	return "";
}

static void
test_every_verb(void **state)
{
	char *k[] = { "Arvados-Test", "InstanceType" }, *v[] = { "verbs", "m5large" };
	struct proto_cloud_create req = {
		.itype = { "m5large", "m5.large", 0.096, false, 0 },
		.image = "ami-0a1b2c3d4e5f60001",
		.init_command = "echo glue",
		.public_key = (char *)pubkey,
		.key = "ctr-key-1",
		.tags = { k, v, 2 },
	};
	struct glue_res r, r2;
	cJSON *fi;

	(void)state;
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.status, PROTO_OK);
	assert_true(strncmp(r.id, "i-", 2) == 0);
	assert_string_equal(r.ptype, "m5.large");
	fi = fake_inst(r.id);
	assert_non_null(fi);
	assert_string_equal(jstr(fi, "image_id"), "ami-0a1b2c3d4e5f60001");
	assert_string_equal(jstr(fi, "instance_type"), "m5.large");
	assert_string_equal(jtag(fi, "Arvados-Test"), "verbs");
	assert_non_null(strstr(jstr(fi, "user_data"), "echo glue"));
	cJSON_Delete(fi);

	/* The same caller key: the same instance, not a second one. */
	assert_int_equal(glue_create(&G, &req, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_string_equal(r2.id, r.id);
	glue_res_free(&r2);

	char *tk[] = { "Arvados-Hold" }, *tv[] = { "yes" };
	struct proto_cloud_tags nt = { tk, tv, 1 };
	assert_int_equal(glue_set_tags(&G, r.id, &nt, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	glue_res_free(&r2);
	fi = fake_inst(r.id);
	assert_string_equal(jtag(fi, "Arvados-Hold"), "yes");
	assert_string_equal(jtag(fi, "Arvados-Test"), "verbs"); /* merged */
	cJSON_Delete(fi);

	struct proto_cloud_tags filter = { k, v, 1 };
	assert_int_equal(glue_list(&G, &filter, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_int_equal(r2.n, 1);
	assert_string_equal(r2.id, r.id);
	assert_true(strncmp(r2.address, "127.8.", 6) == 0);
	glue_res_free(&r2);

	assert_int_equal(glue_qgroup(&G, &req.itype, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	/* The reference's default InstanceTypeQuotaGroups (m: standard), which the site's
	 * DriverParameters here do not name: cloudd merges them in (params_defaults.c). */
	assert_string_equal(r2.group, "standard");
	glue_res_free(&r2);
	req.itype.preemptible = true;
	assert_int_equal(glue_qgroup(&G, &req.itype, &r2), 0);
	assert_string_equal(r2.group, "standard-spot");
	glue_res_free(&r2);

	struct proto_cloud_prices pr = { req.itype, r.id, "", false };
	assert_int_equal(glue_prices(&G, &pr, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_int_equal(r2.n, 0); /* on-demand: no spot history */
	glue_res_free(&r2);

	const char *ids[] = { r.id, "i-00000000000000000" };
	assert_int_equal(glue_destroy(&G, ids, 2, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_int_equal(r2.n, 2);
	assert_int_equal(r2.n_ok, 1);
	assert_string_equal(r2.first_err_code, "InvalidInstanceID.NotFound");
	glue_res_free(&r2);
	fi = fake_inst(r.id);
	assert_true(strcmp(jstr(fi, "state"), "terminated") == 0 ||
		    strcmp(jstr(fi, "state"), "shutting-down") == 0);
	cJSON_Delete(fi);
	glue_res_free(&r);
}

static void
test_list_streamed(void **state)
{
	char cmd[1024];
	char *k[] = { "Arvados-Bulk" }, *v[] = { "many" };
	struct proto_cloud_tags filter = { k, v, 1 };
	struct glue_res r;
	FILE *p;
	int n = 0;

	(void)state;
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/populate.py %s %s 2500 Arvados-Bulk many",
		 CLOUDGLUE_DIR, F.endpoint, F.ca);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(n, 2500);
	assert_int_equal(glue_list(&G, &filter, &r), 0);
	assert_int_equal(r.err.status, PROTO_OK);
	assert_int_equal(r.n, 2500);
	/* 3 DescribeInstances pages of <= 1000, each cut into parts that fit 64 KiB. */
	assert_true(r.parts > 3);
	glue_res_free(&r);
}

static void
fault(const char *code, const char *extra)
{
	char b[512];

	snprintf(b, sizeof(b), "{\"action\":\"RunInstances\",\"code\":\"%s\",\"count\":1%s}", code,
		 extra ? extra : "");
	assert_int_equal(fake_ctl0(&F, "POST", "/_fake/faults", b), 0);
}

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
test_error_classes(void **state)
{
	struct proto_cloud_create req = {
		.itype = { "c5xl", "c5.xlarge", 0.17, false, 0 },
		.image = "ami-0a1b2c3d4e5f60002",
		.init_command = "",
		.public_key = (char *)pubkey,
		.key = "",
	};
	struct glue_res r;
	int64_t before = now_ms();

	(void)state;
	fault("RequestLimitExceeded", NULL);
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.status, PROTO_E_FAILED);
	assert_int_equal(r.err.cls, PROTO_CLOUD_RATE_LIMIT);
	assert_true(r.err.earliest_retry_ms > before);
	assert_string_equal(r.err.code, "RequestLimitExceeded");
	glue_res_free(&r);

	fault("InstanceLimitExceeded", NULL);
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.cls, PROTO_CLOUD_QUOTA);
	assert_non_null(strstr(r.err.text, "InstanceLimitExceeded"));
	glue_res_free(&r);

	req.itype.preemptible = true;
	fault("InsufficientInstanceCapacity", NULL);
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.cls, PROTO_CLOUD_CAPACITY);
	assert_true(r.err.type_specific);
	assert_true(r.err.spot);
	assert_string_equal(r.err.instance_type, "c5.xlarge");
	glue_res_free(&r);

	req.itype.preemptible = false;
	fault("InvalidParameterValue", ",\"message\":\"bad thing\"");
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.cls, PROTO_CLOUD_OTHER);
	assert_int_equal(r.err.http_status, 400);
	assert_non_null(strstr(r.err.text, "bad thing"));
	glue_res_free(&r);
	fake_ctl0(&F, "DELETE", "/_fake/faults", NULL);
}

/* How many times a fault fired on action (the request log only has finished requests). */
static int
fired(const char *action)
{
	cJSON *j = fake_ctl(&F, "GET", "/_fake/faults", NULL);
	const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "fired"), action);
	int v = cJSON_IsNumber(n) ? n->valueint : 0;

	cJSON_Delete(j);
	return v;
}

static void
test_kill_mid_request(void **state)
{
	struct proto_cloud_create req = {
		.itype = { "m5large", "m5.large", 0.096, false, 0 },
		.image = "ami-0a1b2c3d4e5f60003",
		.init_command = "",
		.public_key = (char *)pubkey,
		.key = "ctr-kill",
	};
	struct glue_res r, r2;
	unsigned starts = child_starts(G.c);
	int seen = fired("RunInstances");
	bool tick = false;

	(void)state;
	assert_int_equal(fake_ctl0(&F, "POST", "/_fake/faults",
				   "{\"action\":\"RunInstances\",\"hang\":true,\"count\":-1}"),
			 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(cloudc_create(G.c, &req, 60000, glue_create_cb, &r), 0);
	/* Wait until the call hangs in the fake, then kill cloudd under it. */
	for (int i = 0; i < 500 && fired("RunInstances") <= seen; i++)
		glue_run_until(&G, &tick, 20);
	assert_false(r.done);
	assert_int_equal(kill(child_pid(G.c), SIGKILL), 0);
	assert_true(glue_run_until(&G, &r.done, 10000));
	assert_int_equal(r.err.status, PROTO_E_RETRY);
	assert_int_equal(r.err.cls, PROTO_CLOUD_OTHER);
	/* Down: a new request fails at once, retryably. */
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(cloudc_create(G.c, &req, 60000, glue_create_cb, &r2), -EAGAIN);
	assert_int_equal(fake_ctl0(&F, "DELETE", "/_fake/faults", NULL), 0);
	/* Restarted (after child.c's back-off), re-initialised, and working again. */
	assert_true(glue_wait_ready(&G, starts + 1, 30000));
	assert_int_equal(glue_create(&G, &req, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_true(strncmp(r2.id, "i-", 2) == 0);
	glue_res_free(&r2);
	glue_res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_verb),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_list_streamed),
		cmocka_unit_test(test_kill_mid_request),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("CLOUDGLUE_FILTER") != NULL) /* e.g. "test_kill*" while debugging */
		cmocka_set_test_filter(getenv("CLOUDGLUE_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
