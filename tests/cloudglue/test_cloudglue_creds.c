/*
 * test_cloudglue_creds.c - the EC2 driver under the production conditions of a real host, in
 * the real cloudd binary with its sandbox on (as arvados-cloudd when run as root), started
 * through dispatcherd/child.c, against fake_ec2 (botocore verifies every signature):
 *
 *   - the reference unit's environment (AWS_CONFIG_FILE=/dev/null,
 *     AWS_SHARED_CREDENTIALS_FILE=/dev/null) with each source of the credential chain: static
 *     keys in DriverParameters, the environment (moved by dispatcherd into the secret blob's
 *     "Env"), and an IMDSv2 role (tests/ec2/fake_imds.py);
 *   - 2,000-character session tokens, from the environment and from IMDS;
 *   - no AWS_CA_BUNDLE: the fake's CA only in the default bundle path (bound over
 *     /etc/ssl/certs/ca-certificates.crt in a private mount namespace), only in
 *     SSL_CERT_FILE, only in SSL_CERT_DIR; and nowhere (the call must fail);
 *   - the reference's DriverParameters defaults with a site's DriverParameters that has none
 *     of them: quota groups of EC2's families, and spot prices (SpotPriceUpdateInterval 24h).
 * Needs root (the mount namespace, and the sandbox's user drop).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "glue.h"
#include "harness.h"

#define TOKEN_LEN  2000
#define SYS_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static struct fake F, I;
static struct glue G;
static char tok_env[TOKEN_LEN + 1], tok_imds[TOKEN_LEN + 1];

static const char *pubkey =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQNIwP6vJ0IIm6rTW0yQHfuCiXR4Zgy+xFCiDTCxW4b test";

/* An STS-like token: base64 characters, '/' and '+' included, '=' padded. */
static void
make_token(char *t, unsigned seed)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (int i = 0; i < TOKEN_LEN - 2; i++) {
		seed = seed * 1103515245u + 12345u;
		t[i] = b64[(seed >> 16) % 64];
	}
	t[TOKEN_LEN - 2] = t[TOKEN_LEN - 1] = '=';
	t[TOKEN_LEN] = 0;
}

static int
setup(void **state)
{
	static char k1[TOKEN_LEN + 64], k2[TOKEN_LEN + 64];
	const char *fargs[] = { "--key", k1, "--key", k2, "--key", "AKIDSTATIC:staticsecret", NULL };
	const char *iargs[] = { "--cred", k2, "--lifetime", "3600", NULL };

	(void)state;
	make_token(tok_env, 1);
	make_token(tok_imds, 2);
	snprintf(k1, sizeof(k1), "AKIDENVLONG:envsecret:%s", tok_env);
	snprintf(k2, sizeof(k2), "ASIAIMDSLONG:imdssecret:%s", tok_imds);
	if (fake_start(&F, NULL, fargs) != 0)
		return -1;
	return fake_start(&I, EC2_TEST_DIR "/fake_imds.py", iargs);
}

static int
teardown(void **state)
{
	(void)state;
	fake_stop(&I);
	fake_stop(&F);
	return 0;
}

/* Before each test: the environment the reference's systemd unit gives, the fake's endpoint,
 * no CA and no credentials anywhere. */
static int
reset(void **state)
{
	(void)state;
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_ENDPOINT_URL_EC2", F.endpoint, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	return fake_ctl0(&F, "POST", "/_fake/reset", "{}");
}

static bool started;

/* glue_start, remembered so that the teardown stops only a started loop. */
static int
start(const char *secret)
{
	started = true;
	return glue_start(&G, "ec2", secret);
}

static int
stop(void **state)
{
	(void)state;
	if (started)
		glue_stop(&G);
	started = false;
	return 0;
}

#define STATIC_SECRET                                                                     \
	"{\"DriverParameters\":{\"Region\":\"us-east-1\",\"AccessKeyID\":\"AKIDSTATIC\"," \
	"\"SecretAccessKey\":\"staticsecret\"},\"Env\":{}}"

/* One DescribeInstances through cloudd; its outcome in r. */
static void
list_once(struct glue_res *r)
{
	struct proto_cloud_tags none = { 0 };

	assert_int_equal(glue_list(&G, &none, r), 0);
}

static void
assert_list_ok(const char *want_akid, const char *want_token)
{
	struct glue_res r;
	static char akid[64], tok[TOKEN_LEN + 64];

	list_once(&r);
	if (r.err.status != PROTO_OK)
		fail_msg("list failed: %s", r.err.text);
	glue_res_free(&r);
	fake_last_auth(&F, akid, sizeof(akid), tok, sizeof(tok));
	assert_string_equal(akid, want_akid);
	assert_string_equal(tok, want_token);
}

/* ---- the credential chain in the reference unit's environment ---- */

static void
t_static_keys(void **state)
{
	(void)state;
	setenv("AWS_CA_BUNDLE", F.ca, 1);
	assert_int_equal(start(STATIC_SECRET), 0);
	assert_list_ok("AKIDSTATIC", "");
}

static void
t_env_long_session_token(void **state)
{
	static char secret[TOKEN_LEN + 512];

	(void)state;
	setenv("AWS_CA_BUNDLE", F.ca, 1);
	snprintf(secret, sizeof(secret),
		 "{\"DriverParameters\":{\"Region\":\"us-east-1\"},\"Env\":{"
		 "\"AWS_ACCESS_KEY_ID\":\"AKIDENVLONG\",\"AWS_SECRET_ACCESS_KEY\":\"envsecret\","
		 "\"AWS_SESSION_TOKEN\":\"%s\"}}",
		 tok_env);
	assert_int_equal(start(secret), 0);
	assert_list_ok("AKIDENVLONG", tok_env);
	assert_int_equal(strlen(tok_env), TOKEN_LEN);
}

static void
t_imds_role_long_session_token(void **state)
{
	(void)state;
	setenv("AWS_CA_BUNDLE", F.ca, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", I.endpoint, 1);
	assert_int_equal(start("{\"DriverParameters\":{\"Region\":\"us-east-1\"},\"Env\":{}}"), 0);
	assert_list_ok("ASIAIMDSLONG", tok_imds);
}

/* ---- where the CA comes from, without AWS_CA_BUNDLE ---- */

/* Nothing trusts the fake's CA: the call fails in TLS (no HTTP status). This is what each
 * test below turns into a success. */
static void
t_ca_nowhere_fails(void **state)
{
	struct glue_res r;

	(void)state;
	assert_int_equal(start(STATIC_SECRET), 0);
	list_once(&r);
	assert_int_equal(r.err.status, PROTO_E_FAILED);
	assert_int_equal(r.err.http_status, 0);
	assert_non_null(strstr(r.err.text, "request failed"));
	glue_res_free(&r);
	assert_int_equal(fake_count(&F, "DescribeInstances"), 0);
}

static void
t_ca_in_default_bundle(void **state)
{
	(void)state;
	/* This process (and so cloudd, forked from it) gets its own mount namespace, where the
	 * fake's CA is the whole default bundle; the host's view is untouched. */
	assert_int_equal(unshare(CLONE_NEWNS), 0);
	assert_int_equal(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_int_equal(mount(F.ca, SYS_BUNDLE, NULL, MS_BIND, NULL), 0);
	assert_int_equal(start(STATIC_SECRET), 0);
	assert_list_ok("AKIDSTATIC", "");
}

static void
t_ca_in_ssl_cert_file(void **state)
{
	(void)state;
	setenv("SSL_CERT_FILE", F.ca, 1);
	assert_int_equal(start(STATIC_SECRET), 0);
	assert_list_ok("AKIDSTATIC", "");
}

static void
t_ca_in_ssl_cert_dir(void **state)
{
	char dir[300], cmd[2048];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/certdir", F.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s %s/adc-test.pem && openssl rehash %s", dir,
		 F.ca, dir, dir);
	assert_int_equal(system(cmd), 0);
	/* A missing directory first in the list is fine, as for OpenSSL. */
	snprintf(cmd, sizeof(cmd), "%s/missing:%s", F.dir, dir);
	setenv("SSL_CERT_DIR", cmd, 1);
	assert_int_equal(start(STATIC_SECRET), 0);
	assert_list_ok("AKIDSTATIC", "");
}

/* ---- DriverParameters defaults ---- */

static void
t_driver_parameter_defaults(void **state)
{
	struct proto_cloud_create req = {
		.itype = { "m5large", "m5.large", 0.096, true, 0 },
		.image = "ami-0a1b2c3d4e5f60001",
		.init_command = "",
		.public_key = (char *)pubkey,
		.key = "defaults-1",
	};
	struct proto_cloud_itype p5 = { "p5", "p5.48xlarge", 98.0, true, 0 },
				 vt = { "vt", "vt1.3xlarge", 0.65, false, 0 },
				 g4 = { "g4", "g4dn.xlarge", 0.5, false, 0 },
				 x1 = { "x1", "x1.16xlarge", 6.7, false, 0 };
	struct glue_res r, r2;

	(void)state;
	setenv("AWS_CA_BUNDLE", F.ca, 1);
	/* The site names one quota group of its own and no SpotPriceUpdateInterval. */
	assert_int_equal(start("{\"DriverParameters\":{\"Region\":\"us-east-1\","
			       "\"AccessKeyID\":\"AKIDSTATIC\",\"SecretAccessKey\":"
			       "\"staticsecret\",\"instancetypequotagroups\":{\"g4\":\"gpu4\"}},"
			       "\"Env\":{}}"),
			 0);
	assert_int_equal(glue_qgroup(&G, &req.itype, &r), 0);
	assert_string_equal(r.group, "standard-spot"); /* default m: standard */
	glue_res_free(&r);
	assert_int_equal(glue_qgroup(&G, &p5, &r), 0);
	assert_string_equal(r.group, "p5-spot"); /* default p5: p5 */
	glue_res_free(&r);
	assert_int_equal(glue_qgroup(&G, &vt, &r), 0);
	assert_string_equal(r.group, "g"); /* default vt: g */
	glue_res_free(&r);
	assert_int_equal(glue_qgroup(&G, &g4, &r), 0);
	assert_string_equal(r.group, "gpu4"); /* the site's entry, merged in */
	glue_res_free(&r);
	assert_int_equal(glue_qgroup(&G, &x1, &r), 0);
	assert_string_equal(r.group, "x"); /* no entry: the family letters */
	glue_res_free(&r);

	/* Spot prices are looked up (default interval 24h) when spot instances are listed. */
	assert_int_equal(fake_ctl0(&F, "POST", "/_fake/spot-prices",
				   "{\"replace\":true,\"prices\":[{\"instance_type\":\"m5.large\","
				   "\"availability_zone\":\"us-east-1a\",\"price\":\"0.04\","
				   "\"age_seconds\":600}]}"),
			 0);
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.status, PROTO_OK);
	list_once(&r2);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_int_equal(r2.n, 1);
	glue_res_free(&r2);
	assert_int_equal(fake_count(&F, "DescribeSpotPriceHistory"), 1);
	struct proto_cloud_prices pr = { req.itype, r.id, "us-east-1a", true };
	assert_int_equal(glue_prices(&G, &pr, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_int_equal(r2.n, 1);
	glue_res_free(&r2);
	glue_res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_static_keys, reset, stop),
		cmocka_unit_test_setup_teardown(t_env_long_session_token, reset, stop),
		cmocka_unit_test_setup_teardown(t_imds_role_long_session_token, reset, stop),
		cmocka_unit_test_setup_teardown(t_ca_nowhere_fails, reset, stop),
		cmocka_unit_test_setup_teardown(t_ca_in_ssl_cert_file, reset, stop),
		cmocka_unit_test_setup_teardown(t_ca_in_ssl_cert_dir, reset, stop),
		cmocka_unit_test_setup_teardown(t_driver_parameter_defaults, reset, stop),
		/* Last: it leaves this process in its own mount namespace. */
		cmocka_unit_test_setup_teardown(t_ca_in_default_bundle, reset, stop),
	};

	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0) {
		fprintf(stderr, "test_cloudglue_creds: needs root (mount namespace, sandbox)\n");
		return 1;
	}
	if (getenv("CLOUDGLUE_FILTER") != NULL)
		cmocka_set_test_filter(getenv("CLOUDGLUE_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
