/* test_cloudd_setup.c - what cloudd prepares before its driver: where the CA certificates
 * come from (ca_store.c) and the reference's DriverParameters defaults (params_defaults.c).
 * The sandboxed end-to-end versions are in tests/cloudglue/test_cloudglue_creds.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca_store.h"
#include "params_defaults.h"

static char dir[64];

static void
put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *
path(const char *name)
{
	static char p[32][256];
	static int i;

	i = (i + 1) % 32;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int
setup(void **s)
{
	(void)s;
	snprintf(dir, sizeof(dir), "/tmp/adc-ca-store.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	put("aws.pem", "AWS\n");
	put("file.pem", "FILE\n");
	put("bundle.pem", "BUNDLE\n");
	if (mkdir(path("certs"), 0700) != 0 || mkdir(path("certs2"), 0700) != 0)
		return -1;
	put("certs/0123abcd.0", "HASHED0\n");
	put("certs/0123abcd.1", "HASHED1\n");
	put("certs/0123abcd.r0", "CRL\n");	   /* a CRL: not a certificate */
	put("certs/ca-certificates.crt", "DUP\n"); /* not a hashed name: skipped */
	put("certs2/fedcba98.0", "OTHER\n");
	return 0;
}

static int
teardown(void **s)
{
	char cmd[128];

	(void)s;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
load(const struct ca_sources *src, char **pem, char *from, char *err)
{
	size_t len;
	int r = ca_store_load(src, (uint8_t **)pem, &len, 1 << 20, from, 512, err, 512);

	if (r == 0 && *pem != NULL)
		assert_int_equal(len, strlen(*pem));
	return r;
}

static void
t_aws_ca_bundle_overrides(void **s)
{
	struct ca_sources src = { .aws_ca_bundle = path("aws.pem"),
				  .ssl_cert_file = path("file.pem"),
				  .ssl_cert_dir = path("certs"),
				  .curl_cainfo = path("bundle.pem") };
	char *pem, from[512], err[512];

	(void)s;
	assert_int_equal(load(&src, &pem, from, err), 0);
	assert_string_equal(pem, "AWS\n\n");
	assert_non_null(strstr(from, "AWS_CA_BUNDLE"));
	free(pem);
	/* named but unreadable: an error naming the variable and the path */
	src.aws_ca_bundle = path("nope.pem");
	assert_int_equal(load(&src, &pem, from, err), -ENOENT);
	assert_non_null(strstr(err, "AWS_CA_BUNDLE"));
	assert_non_null(strstr(err, "nope.pem"));
	assert_null(pem);
}

static void
t_system_store(void **s)
{
	struct ca_sources src = { .curl_cainfo = path("bundle.pem"), .curl_capath = path("certs") };
	char *pem, from[512], err[512];

	(void)s;
	/* curl's default bundle; its default path only when the bundle gave nothing */
	assert_int_equal(load(&src, &pem, from, err), 0);
	assert_string_equal(pem, "BUNDLE\n\n");
	assert_non_null(strstr(from, "default bundle"));
	free(pem);
	src.curl_cainfo = path("missing.crt");
	assert_int_equal(load(&src, &pem, from, err), 0);
	assert_string_equal(pem, "HASHED0\n\nHASHED1\n\n");
	free(pem);
	/* neither exists: nothing, and no error (cloudd warns) */
	src.curl_capath = path("missing-dir");
	assert_int_equal(load(&src, &pem, from, err), 0);
	assert_null(pem);
	/* SSL_CERT_FILE replaces the default bundle; SSL_CERT_DIR is added (a list) */
	src.curl_cainfo = path("bundle.pem");
	src.ssl_cert_file = path("file.pem");
	src.ssl_cert_dir = path("certs2");
	assert_int_equal(load(&src, &pem, from, err), 0);
	assert_string_equal(pem, "FILE\n\nOTHER\n\n");
	assert_non_null(strstr(from, "SSL_CERT_FILE"));
	assert_non_null(strstr(from, "SSL_CERT_DIR"));
	free(pem);
	char list[600];
	snprintf(list, sizeof(list), "%s:%s:%s", path("missing-dir"), path("certs"),
		 path("certs2"));
	src.ssl_cert_dir = list;
	assert_int_equal(load(&src, &pem, from, err), 0);
	assert_string_equal(pem, "FILE\n\nHASHED0\n\nHASHED1\n\nOTHER\n\n");
	free(pem);
	/* named by a variable and missing: errors naming it */
	src.ssl_cert_dir = path("missing-dir");
	assert_int_equal(load(&src, &pem, from, err), -ENOENT);
	assert_non_null(strstr(err, "SSL_CERT_DIR"));
	src.ssl_cert_dir = NULL;
	src.ssl_cert_file = path("missing.pem");
	assert_int_equal(load(&src, &pem, from, err), -ENOENT);
	assert_non_null(strstr(err, "SSL_CERT_FILE"));
	/* a directory is not a bundle */
	src.ssl_cert_file = path("certs");
	assert_int_equal(load(&src, &pem, from, err), -EISDIR);
}

static void
t_size_limit(void **s)
{
	struct ca_sources src = { .aws_ca_bundle = path("aws.pem") };
	uint8_t *pem;
	size_t len;
	char from[64], err[256];

	(void)s;
	assert_int_equal(ca_store_load(&src, &pem, &len, 3, from, sizeof(from), err, sizeof(err)),
			 -EFBIG);
	assert_non_null(strstr(err, "AWS_CA_BUNDLE"));
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
t_params_defaults(void **s)
{
	cJSON *p = cJSON_Parse("{\"region\":\"eu-west-1\",\"AdminUsername\":\"debian\","
			       "\"InstanceTypeQuotaGroups\":{\"M\":\"mine\",\"g4\":\"gpu4\"},"
			       "\"SpotPriceUpdateInterval\":\"1h\",\"Unknown\":1}");
	const cJSON *qg;

	(void)s;
	assert_int_equal(params_merge_defaults(p), 0);
	/* the site's keys win, whatever their case; none is added twice */
	assert_string_equal(str(p, "Region"), "eu-west-1");
	assert_string_equal(str(p, "AdminUsername"), "debian");
	assert_string_equal(str(p, "SpotPriceUpdateInterval"), "1h");
	assert_non_null(cJSON_GetObjectItem(p, "Unknown"));
	int n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, p) n += strcasecmp(e->string, "region") == 0;
	assert_int_equal(n, 1);
	/* the defaults the site left out */
	assert_string_equal(str(p, "EBSVolumeType"), "gp2");
	assert_true(cJSON_GetObjectItem(p, "EBSPrice")->valuedouble == 0.10);
	assert_string_equal(str(p, "Location"), "centralus");
	assert_string_equal(str(p, "DeleteDanglingResourcesAfter"), "20s");
	/* quota groups merged: the site's entries kept, the default entries added */
	qg = cJSON_GetObjectItem(p, "InstanceTypeQuotaGroups");
	assert_string_equal(str(qg, "m"), "mine");
	assert_string_equal(str(qg, "g4"), "gpu4");
	assert_string_equal(str(qg, "t"), "standard");
	assert_string_equal(str(qg, "vt"), "g");
	assert_string_equal(str(qg, "p5"), "p5");
	cJSON_Delete(p);

	/* nothing at all: every default, a 24h spot interval */
	p = cJSON_Parse("{\"InstanceTypeQuotaGroups\":null}");
	assert_int_equal(params_merge_defaults(p), 0);
	assert_string_equal(str(p, "SpotPriceUpdateInterval"), "24h");
	assert_string_equal(str(p, "AdminUsername"), "crunch");
	assert_string_equal(str(cJSON_GetObjectItem(p, "InstanceTypeQuotaGroups"), "a"),
			    "standard");
	cJSON_Delete(p);

	/* a quota-group value of the wrong type is left for the driver to refuse */
	p = cJSON_Parse("{\"InstanceTypeQuotaGroups\":[1]}");
	assert_int_equal(params_merge_defaults(p), 0);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(p, "InstanceTypeQuotaGroups")));
	cJSON_Delete(p);
	p = cJSON_Parse("[]");
	assert_int_equal(params_merge_defaults(p), -EINVAL);
	cJSON_Delete(p);
	/* the defaults text itself parses */
	p = cJSON_Parse(params_defaults_json);
	assert_true(cJSON_IsObject(p));
	cJSON_Delete(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_aws_ca_bundle_overrides),
		cmocka_unit_test(t_system_store),
		cmocka_unit_test(t_size_limit),
		cmocka_unit_test(t_params_defaults),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
