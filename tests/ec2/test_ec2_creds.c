/* test_ec2_creds.c - credentials from the environment (with a session token) and from an IAM
 * role through IMDSv2 (tests/ec2/fake_imds.py), refreshed before expiry; the endpoint and CA
 * bundle from AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL / AWS_CA_BUNDLE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static struct fake F, I;
static uv_loop_t L;

static const char *const fake_args[] = { "--key", "AKIDENV:envsecret:envtoken",
					 "--key", "ASIAONE:secretone:tokenone",
					 "--key", "ASIATWO:secrettwo:tokentwo",
					 NULL };
/* 302 s lifetime: inside the 5-minute margin after 2 s, so the next call refreshes. */
static const char *const imds_args[] = { "--cred",     "ASIAONE:secretone:tokenone",
					 "--cred",     "ASIATWO:secrettwo:tokentwo",
					 "--lifetime", "302",
					 NULL };

static int
setup(void **s)
{
	(void)s;
	uv_loop_init(&L);
	setenv("EC2_TEST_NO_STATIC", "1", 1);
	if (fake_start(&F, NULL, fake_args) < 0)
		return -1;
	return fake_start(&I, EC2_TEST_DIR "/fake_imds.py", imds_args);
}

static int
teardown(void **s)
{
	(void)s;
	fake_stop(&I);
	fake_stop(&F);
	uv_loop_close(&L);
	return 0;
}

static void
clear_env(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_CA_BUNDLE");
}

static int
reset(void **s)
{
	(void)s;
	clear_env();
	return fake_ctl0(&F, "POST", "/_fake/reset", "{}");
}

static void
t_env_session_token(void **s)
{
	struct ec2_driver_opts o = { .no_pace = true };
	struct drv *d;
	struct op_result r;
	char akid[64], tok[64];

	(void)s;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	d = drv_for(&L, &F, "{}", &o);
	assert_non_null(d);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	fake_last_auth(&F, akid, sizeof(akid), tok, sizeof(tok));
	assert_string_equal(akid, "AKIDENV");
	assert_string_equal(tok, "envtoken");
	drv_done_free(&L, d);
	/* without the token the fake refuses the key (it was issued with one) */
	unsetenv("AWS_SESSION_TOKEN");
	d = drv_for(&L, &F, "{}", &o);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_true(r.failed);
	assert_string_equal(r.err.code, "AuthFailure");
	op_result_free(&r);
	drv_done_free(&L, d);
}

static int
imds_count(void)
{
	cJSON *j = fake_ctl(&I, "GET", "/_fake/count", NULL);
	int n = cJSON_GetObjectItem(j, "count") ? cJSON_GetObjectItem(j, "count")->valueint : -1;

	cJSON_Delete(j);
	return n;
}

static void
t_imds_role_and_refresh(void **s)
{
	struct ec2_driver_opts o = { .no_pace = true };
	struct drv *d;
	struct op_result r;
	char akid[64], tok[64];
	int n0 = imds_count();

	(void)s;
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", I.endpoint, 1);
	d = drv_for(&L, &F, "{}", &o);
	assert_non_null(d);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	fake_last_auth(&F, akid, sizeof(akid), tok, sizeof(tok));
	assert_string_equal(akid, "ASIAONE");
	assert_string_equal(tok, "tokenone");
	assert_int_equal(imds_count(), n0 + 1);
	/* still fresh: no new fetch */
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	op_result_free(&r);
	assert_int_equal(imds_count(), n0 + 1);
	/* within 5 minutes of Expiration: refreshed before the next call */
	sleep(3);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	fake_last_auth(&F, akid, sizeof(akid), tok, sizeof(tok));
	assert_string_equal(akid, "ASIATWO");
	assert_string_equal(tok, "tokentwo");
	assert_int_equal(imds_count(), n0 + 2);
	drv_done_free(&L, d);
}

static void
t_imds_unreachable(void **s)
{
	struct ec2_driver_opts o = { .no_pace = true,
				     .connect_timeout_ms = 500,
				     .timeout_ms = 1000 };
	struct drv *d;
	struct op_result r;

	(void)s;
	/* a loopback port nothing listens on */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
	d = drv_for(&L, &F, "{}", &o);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.text, "no credentials"));
	assert_non_null(strstr(r.err.text, "IMDS"));
	op_result_free(&r);
	drv_done_free(&L, d);
	/* disabled IMDS and no keys: construction says so */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_null(drv_for(&L, &F, "{}", &o));
}

static void
t_endpoint_env(void **s)
{
	struct ec2_driver_opts o = { .no_pace = true, .endpoint = "", .ca_file = "" };
	struct drv *d;
	struct op_result r;

	(void)s;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	setenv("AWS_ENDPOINT_URL", F.endpoint, 1);
	setenv("AWS_ENDPOINT_URL_EC2", "https://127.0.0.1:9/", 1); /* wins over the generic one */
	setenv("AWS_CA_BUNDLE", F.ca, 1);
	d = drv_for(&L, &F, "{}", &o);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_true(r.failed); /* port 9: refused, proving the EC2-specific variable was used */
	op_result_free(&r);
	drv_done_free(&L, d);
	unsetenv("AWS_ENDPOINT_URL_EC2");
	d = drv_for(&L, &F, "{}", &o);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	drv_done_free(&L, d);
	/* without the CA bundle the test CA is not trusted */
	unsetenv("AWS_CA_BUNDLE");
	d = drv_for(&L, &F, "{}", &o);
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_true(r.failed);
	assert_int_equal(r.err.http_status, 0);
	op_result_free(&r);
	drv_done_free(&L, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_env_session_token, reset),
		cmocka_unit_test_setup(t_imds_role_and_refresh, reset),
		cmocka_unit_test_setup(t_imds_unreachable, reset),
		cmocka_unit_test_setup(t_endpoint_env, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
