/* test_ec2_errors.c - every error code of spec 2.6 injected through fake_ec2's control API and
 * mapped to its class; subnet failover order (2.4.3); ClientToken per subnet attempt; the
 * throttle backoff; a hung call ended by the total timeout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "ec2_driver.h"

static struct fake F;
static uv_loop_t L;
static const struct drv_itype T = { .name = "m5.large", .price = 0.1 };

static const char *const fake_args[] = { "--subnet-cidr", "subnet-aaa=127.0.1.0/24",
					 "--subnet-cidr", "subnet-bbb=127.0.2.0/24", NULL };

static int
setup(void **s)
{
	(void)s;
	uv_loop_init(&L);
	return fake_start(&F, NULL, fake_args);
}

static int
teardown(void **s)
{
	(void)s;
	fake_stop(&F);
	uv_loop_close(&L);
	return 0;
}

static int
reset(void **s)
{
	(void)s;
	return fake_ctl0(&F, "POST", "/_fake/reset", "{}");
}

static void
fault(const char *action, const char *code, int count, const char *subnet)
{
	char b[300];

	snprintf(b, sizeof(b), "{\"action\":\"%s\",\"code\":\"%s\",\"count\":%d%s%s%s}", action,
		 code, count, subnet ? ",\"subnet\":\"" : "", subnet ? subnet : "",
		 subnet ? "\"" : "");
	assert_int_equal(fake_ctl0(&F, "POST", "/_fake/faults", b), 0);
}

static struct drv *
mkdrv(const char *params)
{
	struct ec2_driver_opts o = { .no_pace = true };

	return drv_for(&L, &F, params, &o);
}

struct want {
	const char *code;
	enum drv_err_class cls;
	bool type_specific, group_specific;
};

static void
t_every_code(void **s)
{
	static const struct want w[] = {
		{ "Throttling", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "ThrottlingException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "ThrottledException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "RequestThrottledException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "TooManyRequestsException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "ProvisionedThroughputExceededException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "TransactionInProgressException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "RequestLimitExceeded", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "BandwidthLimitExceeded", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "LimitExceededException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "RequestThrottled", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "SlowDown", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "PriorRequestNotComplete", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "EC2ThrottledException", DRV_ERR_RATE_LIMIT, 0, 0 },
		{ "InstanceLimitExceeded", DRV_ERR_QUOTA, 0, 0 },
		{ "InsufficientAddressCapacity", DRV_ERR_QUOTA, 0, 0 },
		{ "InsufficientFreeAddressesInSubnet", DRV_ERR_QUOTA, 0, 0 },
		{ "InsufficientVolumeCapacity", DRV_ERR_QUOTA, 0, 0 },
		{ "MaxSpotInstanceCountExceeded", DRV_ERR_QUOTA, 0, 0 },
		{ "VcpuLimitExceeded", DRV_ERR_CAPACITY, 0, 1 },
		{ "InsufficientInstanceCapacity", DRV_ERR_CAPACITY, 1, 0 },
		{ "Unsupported", DRV_ERR_CAPACITY, 1,
		  0 }, /* fake's message: "requested instance type" */
		{ "InvalidParameterValue", DRV_ERR_OTHER, 0, 0 },
		{ "InternalError", DRV_ERR_OTHER, 0, 0 },
		{ "Unavailable", DRV_ERR_OTHER, 0, 0 },
		{ "AuthFailure", DRV_ERR_OTHER, 0, 0 },
		{ "InvalidAMIID.NotFound", DRV_ERR_OTHER, 0, 0 },
	};
	struct drv *d = mkdrv("{\"InstanceTypeQuotaGroups\":{\"m\":\"standard\"}}");
	struct op_result r;

	(void)s;
	for (size_t i = 0; i < sizeof(w) / sizeof(*w); i++) {
		int64_t t0 = ec2_wall_ms();

		fault("RunInstances", w[i].code, 1, NULL);
		assert_int_equal(do_create(&L, d, &T, NULL, NULL, NULL, &r), 0);
		assert_true(r.failed);
		assert_string_equal(r.err.code, w[i].code);
		if (r.err.cls != w[i].cls)
			fail_msg("%s: class %s, want %s", w[i].code, drv_err_class_name(r.err.cls),
				 drv_err_class_name(w[i].cls));
		assert_int_equal(r.err.type_specific, w[i].type_specific);
		assert_int_equal(r.err.quota_group_specific, w[i].group_specific);
		assert_string_equal(r.err.instance_type, "m5.large");
		assert_string_equal(r.err.quota_group, "standard");
		assert_non_null(strstr(r.err.text, "api error "));
		assert_non_null(strstr(r.err.text, w[i].code));
		if (w[i].cls == DRV_ERR_RATE_LIMIT)
			assert_true(r.err.earliest_retry_ms >= t0 + 1000);
		op_result_free(&r);
	}
	/* the same capacity error for a spot request names the spot quota group */
	{
		struct drv_itype sp = T;

		sp.preemptible = true;
		fault("RunInstances", "InsufficientInstanceCapacity", 1, NULL);
		assert_int_equal(do_create(&L, d, &sp, NULL, NULL, NULL, &r), 0);
		assert_int_equal(r.err.cls, DRV_ERR_CAPACITY);
		assert_true(r.err.spot);
		assert_string_equal(r.err.quota_group, "standard-spot");
		op_result_free(&r);
	}
	drv_done_free(&L, d);
}

/* 2.6 on DescribeInstances: 1, 2.5, 4.75 s, then a success resets to 1 s. */
static void
t_list_backoff(void **s)
{
	struct drv *d = mkdrv("{}");
	struct op_result r;
	int64_t want[] = { 1000, 2500, 4750 };

	(void)s;
	for (int i = 0; i < 3; i++) {
		int64_t t0 = ec2_wall_ms(), t1;

		fault("DescribeInstances", "RequestLimitExceeded", 1, NULL);
		assert_int_equal(do_list(&L, d, NULL, &r), 0);
		t1 = ec2_wall_ms();
		assert_int_equal(r.err.cls, DRV_ERR_RATE_LIMIT);
		assert_in_range(r.err.earliest_retry_ms, t0 + want[i], t1 + want[i]);
		op_result_free(&r);
	}
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	{
		int64_t t0 = ec2_wall_ms(), t1;

		fault("DescribeInstances", "SlowDown", 1, NULL);
		assert_int_equal(do_list(&L, d, NULL, &r), 0);
		t1 = ec2_wall_ms();
		assert_in_range(r.err.earliest_retry_ms, t0 + 1000, t1 + 1000);
		op_result_free(&r);
	}
	drv_done_free(&L, d);
}

/* The subnet (and ClientToken) of each logged RunInstances call, oldest first. */
static int
run_calls(char subnets[][32], char tokens[][80], int max)
{
	cJSON *j = fake_ctl(&F, "GET", "/_fake/requests?action=RunInstances", NULL);
	cJSON *a = cJSON_GetObjectItem(j, "requests"), *e;
	int n = 0;

	cJSON_ArrayForEach(e, a)
	{
		cJSON *p = cJSON_GetObjectItem(e, "params");
		cJSON *ni = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "NetworkInterfaces"), 0);
		cJSON *sn = cJSON_GetObjectItem(ni, "SubnetId"),
		      *ct = cJSON_GetObjectItem(p, "ClientToken");

		if (n >= max)
			break;
		snprintf(subnets[n], 32, "%s", cJSON_IsString(sn) ? sn->valuestring : "");
		snprintf(tokens[n], 80, "%s", cJSON_IsString(ct) ? ct->valuestring : "");
		n++;
	}
	cJSON_Delete(j);
	fake_ctl0(&F, "DELETE", "/_fake/requests", NULL);
	return n;
}

static void
t_failover_full_good(void **s)
{
	struct drv *d = mkdrv("{\"SubnetID\":[\"subnet-aaa\",\"subnet-bbb\"]}");
	struct op_result r;
	char sn[8][32], tk[8][80];
	const struct ec2_subnet_stats *st;

	(void)s;
	fake_ctl0(&F, "DELETE", "/_fake/requests", NULL);
	fault("RunInstances", "InsufficientFreeAddressesInSubnet", -1, "subnet-aaa");
	assert_int_equal(do_create(&L, d, &T, NULL, NULL, NULL, &r), 0);
	assert_false(r.failed);
	assert_string_equal(r.inst.subnet_id, "subnet-bbb");
	op_result_free(&r);
	assert_int_equal(run_calls(sn, tk, 8), 2);
	assert_string_equal(sn[0], "subnet-aaa");
	assert_string_equal(sn[1], "subnet-bbb");
	assert_string_not_equal(tk[0], tk[1]); /* a new ClientToken per subnet attempt */
	assert_int_equal(do_create(&L, d, &T, NULL, NULL, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	assert_int_equal(run_calls(sn, tk, 8), 1);
	assert_string_equal(sn[0], "subnet-bbb"); /* starts where the last success was */
	assert_int_equal(ec2_driver_stats(d, &st), 2);
	assert_string_equal(st[0].subnet_id, "subnet-aaa");
	assert_int_equal(st[0].starts_fail, 1);
	assert_int_equal(st[0].starts_ok, 0);
	assert_int_equal(st[1].starts_ok, 2);
	drv_done_free(&L, d);
}

static void
t_failover_full_broken(void **s)
{
	struct drv *d = mkdrv("{\"SubnetID\":[\"subnet-aaa\",\"subnet-0000000000000dead\"]}");
	struct op_result r;
	char sn[8][32], tk[8][80];

	(void)s;
	fake_ctl0(&F, "DELETE", "/_fake/requests", NULL);
	fault("RunInstances", "InsufficientFreeAddressesInSubnet", -1, "subnet-aaa");
	assert_int_equal(do_create(&L, d, &T, NULL, NULL, NULL, &r), 0);
	assert_true(r.failed);
	assert_string_equal(r.err.code, "InvalidSubnetID.NotFound");
	assert_int_equal(r.err.cls, DRV_ERR_OTHER);
	op_result_free(&r);
	assert_int_equal(run_calls(sn, tk, 8), 2);
	assert_string_equal(sn[0], "subnet-aaa");
	assert_string_equal(sn[1], "subnet-0000000000000dead");
	assert_int_equal(do_create(&L, d, &T, NULL, NULL, NULL, &r), 0);
	assert_true(r.failed);
	assert_string_equal(r.err.code, "InsufficientFreeAddressesInSubnet");
	assert_int_equal(r.err.cls, DRV_ERR_QUOTA);
	op_result_free(&r);
	assert_int_equal(run_calls(sn, tk, 8), 2);
	assert_string_equal(sn[0], "subnet-0000000000000dead");
	assert_string_equal(sn[1], "subnet-aaa");
	drv_done_free(&L, d);
}

static void
t_failover_capacity(void **s)
{
	struct drv *d = mkdrv("{\"SubnetID\":[\"subnet-aaa\",\"subnet-bbb\"]}");
	struct op_result r;
	char sn[8][32], tk[8][80];

	(void)s;
	fake_ctl0(&F, "DELETE", "/_fake/requests", NULL);
	fault("RunInstances", "InsufficientFreeAddressesInSubnet", -1, "subnet-aaa");
	fault("RunInstances", "InsufficientInstanceCapacity", -1, "subnet-bbb");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(do_create(&L, d, &T, NULL, NULL, NULL, &r), 0);
		assert_true(r.failed);
		assert_string_equal(r.err.code, "InsufficientInstanceCapacity");
		assert_int_equal(r.err.cls, DRV_ERR_CAPACITY);
		assert_true(r.err.type_specific);
		op_result_free(&r);
		assert_int_equal(run_calls(sn, tk, 8), 2);
	}
	drv_done_free(&L, d);
}

/* Keyed Create: re-issuing it (after a timeout, say) repeats each attempt's token, so EC2
 * answers with the instance already launched instead of launching a second one. */
static void
t_client_token_keyed(void **s)
{
	struct drv *d = mkdrv("{\"SubnetID\":[\"subnet-aaa\",\"subnet-bbb\"]}");
	struct op_result r;
	char sn[8][32], tk[8][80], tk2[8][80], *id;

	(void)s;
	fake_ctl0(&F, "DELETE", "/_fake/requests", NULL);
	fault("RunInstances", "InsufficientInstanceCapacity", 1, "subnet-aaa");
	assert_int_equal(do_create(&L, d, &T, NULL, NULL, "create-42", &r), 0);
	assert_false(r.failed);
	id = strdup(r.inst.id);
	op_result_free(&r);
	assert_int_equal(run_calls(sn, tk, 8), 2);
	assert_string_not_equal(tk[0], tk[1]);
	assert_int_equal(do_create(&L, d, &T, NULL, NULL, "create-42", &r), 0);
	assert_false(r.failed);
	assert_string_equal(r.inst.id, id); /* the same instance, not a second one */
	op_result_free(&r);
	assert_int_equal(run_calls(sn, tk2, 8), 1);
	assert_string_equal(sn[0], "subnet-bbb");
	assert_string_equal(tk2[0], tk[1]);
	{
		cJSON *j = fake_ctl(&F, "GET", "/_fake/instances", NULL);

		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "instances")), 1);
		cJSON_Delete(j);
	}
	free(id);
	drv_done_free(&L, d);
}

/* A hung call ends at the total timeout with a transport error, and the loop stays free. */
static void
t_hang_timeout(void **s)
{
	struct ec2_driver_opts o = { .no_pace = true,
				     .timeout_ms = 1500,
				     .connect_timeout_ms = 1000 };
	struct drv *d = drv_for(&L, &F, "{}", &o);
	struct op_result r;

	(void)s;
	assert_int_equal(fake_ctl0(&F, "POST", "/_fake/faults",
				   "{\"action\":\"DescribeInstances\",\"hang\":true,\"count\":1}"),
			 0);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_true(r.failed);
	assert_int_equal(r.err.cls, DRV_ERR_OTHER);
	assert_int_equal(r.err.http_status, 0);
	assert_non_null(strstr(r.err.text, "request failed"));
	op_result_free(&r);
	fake_ctl0(&F, "DELETE", "/_fake/faults", NULL);
	drv_done_free(&L, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_every_code, reset),
		cmocka_unit_test_setup(t_list_backoff, reset),
		cmocka_unit_test_setup(t_failover_full_good, reset),
		cmocka_unit_test_setup(t_failover_full_broken, reset),
		cmocka_unit_test_setup(t_failover_capacity, reset),
		cmocka_unit_test_setup(t_client_token_keyed, reset),
		cmocka_unit_test_setup(t_hang_timeout, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
