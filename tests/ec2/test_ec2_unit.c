/* test_ec2_unit.c - the EC2 driver's pure parts: SigV4 vector, query encoding, error table,
 * subnet-specific rule, backoff, quota groups, price normalisation, fingerprints, XML. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ec2_errors.h"
#include "ec2_keypair.h"
#include "ec2_query.h"
#include "ec2_sign.h"
#include "ec2_spot.h"
#include "ec2_xml.h"
#include "ec2_driver.h"

static void
t_sigv4_vector(void **s)
{
	struct ec2_sign_in in = {
		.akid = "AKIDEXAMPLE",
		.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		.region = "us-east-1",
		.service = "ec2",
		.host = "ec2.us-east-1.amazonaws.com",
		.content_type = "application/x-www-form-urlencoded; charset=utf-8",
		.body = "Action=DescribeInstances&Version=2016-11-15",
		.now = 1704067200,
	};
	char date[EC2_AMZ_DATE_LEN], auth[512], h[65];

	(void)s;
	in.body_len = strlen(in.body);
	ec2_sha256_hex(in.body, in.body_len, h);
	assert_string_equal(h, "6171eb09865e32b0602af0f7957e26573a51f53caaedff02ff88883cb0275885");
	assert_int_equal(ec2_sign(&in, date, auth, sizeof(auth)), 0);
	assert_string_equal(date, "20240101T000000Z");
	assert_string_equal(
		auth,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ec2/aws4_request, "
		"SignedHeaders=content-type;host;x-amz-date, "
		"Signature=dfab1f85e5f30dbf64d67ff4fb29822ebb07ccf268425aa9ad3f342625b5b9ad");
	in.token = "TOKEN";
	assert_int_equal(ec2_sign(&in, date, auth, sizeof(auth)), 0);
	assert_non_null(
		strstr(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
	assert_null(strstr(auth, "dfab1f85"));
	assert_int_equal(ec2_sign(&in, date, auth, 40), -ENOSPC);
}

static void
t_query(void **s)
{
	struct ec2_query q;
	char p[40];

	(void)s;
	ec2_query_init(&q, "CreateTags");
	ec2_query_addf(&q, "a b&c=d/é~", "Tag.%d.Value", 1);
	assert_int_equal(ec2_query_done(&q), 0);
	assert_string_equal(
		q.buf, "Action=CreateTags&Version=2016-11-15&Tag.1.Value=a%20b%26c%3Dd%2F%C3%A9~");
	ec2_query_free(&q);
	ec2_format_price(0.02, p, sizeof(p));
	assert_string_equal(p, "0.02");
	ec2_format_price(1.5, p, sizeof(p));
	assert_string_equal(p, "1.5");
	ec2_format_price(1e-05, p, sizeof(p));
	assert_string_equal(p, "1e-05");
	ec2_format_price(100, p, sizeof(p));
	assert_string_equal(p, "100");
	ec2_format_price(0.1 + 0.2, p, sizeof(p));
	assert_string_equal(p, "0.30000000000000004");
}

/* Every code of 2.6 to its class; the first four classes exactly as listed. */
static void
t_error_table(void **s)
{
	static const char *thr[] = { "Throttling",
				     "ThrottlingException",
				     "ThrottledException",
				     "RequestThrottledException",
				     "TooManyRequestsException",
				     "ProvisionedThroughputExceededException",
				     "TransactionInProgressException",
				     "RequestLimitExceeded",
				     "BandwidthLimitExceeded",
				     "LimitExceededException",
				     "RequestThrottled",
				     "SlowDown",
				     "PriorRequestNotComplete",
				     "EC2ThrottledException" };
	static const char *quota[] = { "InstanceLimitExceeded", "InsufficientAddressCapacity",
				       "InsufficientFreeAddressesInSubnet",
				       "InsufficientVolumeCapacity",
				       "MaxSpotInstanceCountExceeded" };
	(void)s;
	for (size_t i = 0; i < sizeof(thr) / sizeof(*thr); i++)
		assert_int_equal(ec2_err_kind(thr[i], "x"), EC2_ERRK_THROTTLE);
	for (size_t i = 0; i < sizeof(quota) / sizeof(*quota); i++)
		assert_int_equal(ec2_err_kind(quota[i], "x"), EC2_ERRK_QUOTA);
	assert_int_equal(ec2_err_kind("VcpuLimitExceeded", "x"), EC2_ERRK_CAPACITY_GROUP);
	assert_int_equal(ec2_err_kind("InsufficientInstanceCapacity", "x"), EC2_ERRK_CAPACITY_TYPE);
	assert_int_equal(
		ec2_err_kind("Unsupported", "The requested instance type is not supported"),
		EC2_ERRK_CAPACITY_TYPE);
	assert_int_equal(ec2_err_kind("Unsupported", "something else"), EC2_ERRK_OTHER);
	assert_int_equal(ec2_err_kind("throttling", "x"), EC2_ERRK_OTHER); /* case matters */
	assert_int_equal(ec2_err_kind("InternalError", "x"), EC2_ERRK_OTHER);
	assert_int_equal(ec2_err_kind("", "x"), EC2_ERRK_OTHER);
}

static void
t_subnet_specific(void **s)
{
	(void)s;
	assert_true(ec2_err_subnet_specific("InvalidSubnetID.NotFound", ""));
	assert_true(ec2_err_subnet_specific("InsufficientFreeAddressesInSubnet", ""));
	assert_true(ec2_err_subnet_specific("InsufficientInstanceCapacity", ""));
	assert_true(ec2_err_subnet_specific("InsufficientVolumeCapacity", ""));
	assert_true(ec2_err_subnet_specific("Unsupported", "whatever"));
	assert_true(ec2_err_subnet_specific("InvalidParameterValue",
					    "Not enough free addresses in subnet subnet-abc"));
	assert_true(
		ec2_err_subnet_specific("Client.InvalidParameterValue",
					"There aren't sufficient free Ipv4 addresses or prefixes"));
	assert_true(ec2_err_subnet_specific("ClientInvalidParameterValue",
					    "There aren't sufficient free ipv6 addresses"));
	assert_false(ec2_err_subnet_specific("InvalidParameterValue",
					     "Some other invalid parameter error"));
	assert_false(ec2_err_subnet_specific("subnetthing", "")); /* case-sensitive */
	assert_false(ec2_err_subnet_specific("", "subnet"));
	assert_false(ec2_err_subnet_specific("VcpuLimitExceeded", ""));
}

static void
t_backoff(void **s)
{
	struct ec2_backoff b = { 0 };
	struct drv_error e;
	int64_t want[] = { 1000, 2500, 4750, 8125, 13187 };

	(void)s;
	for (int i = 0; i < 5; i++) {
		memset(&e, 0, sizeof(e));
		strcpy(e.code, "RequestLimitExceeded");
		ec2_err_classify(&e, "", &b, 1000000);
		assert_int_equal(e.cls, DRV_ERR_RATE_LIMIT);
		assert_int_equal(e.earliest_retry_ms - 1000000, want[i]);
	}
	for (int i = 0; i < 20; i++)
		ec2_err_classify(&e, "", &b, 0);
	assert_int_equal(b.d_ms, 60000);
	memset(&e, 0, sizeof(e));
	strcpy(e.code, "InstanceLimitExceeded"); /* quota: backoff untouched */
	ec2_err_classify(&e, "", &b, 0);
	assert_int_equal(e.cls, DRV_ERR_QUOTA);
	assert_int_equal(b.d_ms, 60000);
	memset(&e, 0, sizeof(e));
	strcpy(e.code, "VcpuLimitExceeded");
	ec2_err_classify(&e, "", &b, 0);
	assert_int_equal(e.cls, DRV_ERR_CAPACITY);
	assert_true(e.quota_group_specific);
	assert_false(e.type_specific);
	memset(&e, 0, sizeof(e));
	strcpy(e.code, "AuthFailure"); /* other: reset */
	ec2_err_classify(&e, "", &b, 0);
	assert_int_equal(e.cls, DRV_ERR_OTHER);
	assert_int_equal(b.d_ms, 0);
}

static void
t_quota_group(void **s)
{
	struct ec2_qg_entry tab[] = { { "a", "standard" },
				      { "m", "standard" },
				      { "t", "standard" },
				      { "p5", "p5" },
				      { "x", "" } };
	struct {
		const char *t;
		bool spot;
		const char *g;
	} v[] = {
		{ "g1.large", 0, "g" },
		{ "x1.large", 0, "x" },
		{ "inf1.2xlarge", 0, "inf" },
		{ "a1.small", 0, "standard" },
		{ "m1.xlarge", 0, "standard" },
		{ "m1.xlarge", 1, "standard-spot" },
		{ "p4.xlarge", 1, "p-spot" },
		{ "p5.xlarge", 1, "p5-spot" },
		{ "t3.2xlarge", 0, "standard" },
		{ "trn1.2xlarge", 0, "trn" },
		{ "trn1.2xlarge", 1, "trn-spot" },
		{ "imaginary9.5xlarge", 0, "imaginary" },
		{ "", 0, "" },
		{ "M5.Large", 0, "standard" },
	};
	char b[64];

	(void)s;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		assert_int_equal(ec2_quota_group(tab, 5, v[i].t, v[i].spot, b, sizeof(b)), 0);
		assert_string_equal(b, v[i].g);
	}
	assert_int_equal(ec2_quota_group(tab, 5, "m5.large", 1, b, 4), -ENOSPC);
}

static void
t_normalize(void **s)
{
	int64_t t = 1700000000;
	struct drv_price p[] = { { t + 60, 1.0 },  { t + 240, 1.2 }, { t + 300, 1.1 },
				 { t + 180, 1.2 }, { t + 300, 1.1 }, { t + 120, 1.0 } };
	size_t n = ec2_price_normalize(p, 6);

	(void)s;
	assert_int_equal(n, 3);
	assert_int_equal(p[0].start_time, t + 300);
	assert_true(p[0].price == 1.1);
	assert_int_equal(p[1].start_time, t + 180);
	assert_int_equal(p[2].start_time, t + 60);
	assert_int_equal(ec2_parse_time("2024-01-01T00:00:00.123Z"), 1704067200);
	assert_int_equal(ec2_parse_time("2024-01-01T00:00:00Z"), 1704067200);
	assert_int_equal(ec2_parse_time("2024-01-01"), -1);
}

static void
t_spot_cache(void **s)
{
	struct ec2_spot_cache c = { 0 };
	struct drv_price *p;
	size_t n;
	const char *ty[] = { "m5.large" }, *az[] = { "us-east-1a" };

	(void)s;
	assert_true(ec2_spot_stale(&c, ty, az, 1, 1000, 60));
	assert_int_equal(ec2_spot_add(&c, "m5.large", "us-east-1a", 900, 0.5, 1000), 0);
	assert_int_equal(ec2_spot_add(&c, "m5.large", "us-east-1a", 950, 0.5, 1000), 0);
	ec2_spot_finish(&c, 1000, 60);
	assert_false(ec2_spot_stale(&c, ty, az, 1, 1030, 60));
	assert_true(ec2_spot_stale(&c, ty, az, 1, 1060, 60));
	assert_int_equal(ec2_spot_history(&c, "m5.large", "us-east-1a", 0.25, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].start_time, 900); /* the oldest of the run of equal prices */
	assert_true(p[0].price == 0.75);
	free(p);
	assert_int_equal(ec2_spot_history(&c, "m5.large", "us-east-1b", 0, &p, &n), 0);
	assert_int_equal(n, 0);
	ec2_spot_finish(&c, 1000 + 65 * 60, 60); /* not updated for 64 intervals: dropped */
	assert_int_equal(c.n, 0);
	ec2_spot_free(&c);
}

static void
t_fingerprint(void **s)
{
	static const char key[] = "ssh-rsa "
				  "AAAAB3NzaC1yc2EAAAADAQABAAABAQCpibhexAebywFJkXBRflV5bU6Qax+"
				  "g3NwY8bafPNhGE2EKVhnQAEeFSTzYeRoL/yXp3+OlhN/"
				  "jYesrjac1DSvRjOzurDzJkxCKgrhiT6QXJUsXvwQZEbikYBZcWzqlRyGz+Wbx+"
				  "j3Nx1rhHdd6qAj4076cQRFeZ1ElrUWEj5lrf9L/"
				  "4JWaD7o7TTBnPb68qYM+m0Y3gwIqZA4Iqwwm2zvBJkbJVxO102/"
				  "uON+vrI8Ag4gvxfsu1qsEIVor+"
				  "kPu5aWX9SPuHsPwrjychlSu8EkmNcvxKbgvEI2jPdnzeTwnlnO4NEOBGJB78LTzm"
				  "aE7pUv7Z/KkMvBwq3W04vx8jzUz tom@curve";
	struct ec2_fps f;
	char err[200];

	(void)s;
	assert_int_equal(ec2_key_fingerprints(key, &f, err, sizeof(err)), 0);
	assert_string_equal(f.fp[0], "6c:b9:52:3c:03:d3:f9:f5:6f:91:83:06:2d:72:85:0b");
	assert_string_equal(f.fp[1], "4c:e6:91:58:77:ec:23:4d:eb:f3:3c:16:2a:8c:05:d9:17:7a:9c:41");
	assert_int_equal(ec2_key_fingerprints("ssh-rsa AAAA", &f, err, sizeof(err)), -EINVAL);
	assert_int_equal(ec2_key_fingerprints("nospace", &f, err, sizeof(err)), -EINVAL);
	assert_int_equal(ec2_key_fingerprints("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1c3Rlcg== x",
					      &f, err, sizeof(err)),
			 0);
	assert_int_equal(strncmp(f.fp[0], "SHA256:", 7), 0);
	assert_int_equal(strlen(f.fp[0]), strlen(f.fp[1]) + 1);
	assert_int_equal(f.fp[0][strlen(f.fp[0]) - 1], '=');
}

static void
t_xml_good(void **s)
{
	static const char x[] =
		"<?xml version=\"1.0\"?><DescribeInstancesResponse "
		"xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
		"<reservationSet><item><instancesSet><item><instanceId>i-1</instanceId>"
		"<instanceState><name>running</name></instanceState><instanceType>m5.large</"
		"instanceType>"
		"<placement><availabilityZone>us-east-1a</availabilityZone></placement>"
		"<instanceLifecycle>spot</instanceLifecycle></item>"
		"<item><instanceId>i-2</instanceId><tagSet><item><key>k</key><value>v&amp;w</"
		"value></item></tagSet></item>"
		"</instancesSet></item></reservationSet><nextToken/></DescribeInstancesResponse>";
	struct ec2_xnode *r;
	char err[200];
	const struct ec2_xnode *it;
	struct drv_instance in;
	struct drv_tags fb = { 0 };

	(void)s;
	assert_int_equal(ec2_xml_parse(x, sizeof(x) - 1, &r, err, sizeof(err)), 0);
	assert_string_equal(r->name, "DescribeInstancesResponse");
	assert_string_equal(ec2_xml_text(r, "nextToken"), "");
	it = ec2_xml_path(r, "reservationSet/item/instancesSet/item");
	drv_tags_add(&fb, "sent", "at-create");
	assert_int_equal(ec2_instance_parse(it, &fb, &in), 0);
	assert_string_equal(in.id, "i-1");
	assert_true(in.spot);
	assert_string_equal(in.az, "us-east-1a");
	assert_string_equal(in.address, "");
	/* no tagSet in the answer: the tags sent at create stand in (11.2) */
	assert_string_equal(drv_tags_get(&in.tags, "sent"), "at-create");
	drv_instance_free(&in);
	it = ec2_xml_next(it);
	assert_int_equal(ec2_instance_parse(it, &fb, &in), 0);
	assert_string_equal(drv_tags_get(&in.tags, "k"), "v&w");
	assert_null(drv_tags_get(&in.tags, "sent"));
	drv_instance_free(&in);
	drv_tags_free(&fb);
	ec2_xml_free(r);
}

static void
t_xml_bad(void **s)
{
	const char *bad[] = {
		"",
		"<a>",
		"<a></b>",
		"<a/><b/>",
		"not xml",
		"<a>\x01</a>",
		"<Response><Errors><Error><Code>X</Code>",    /* truncated */
		"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", /* DOCTYPE refused */
	};
	struct ec2_xnode *r;
	char err[200];
	char *deep;
	size_t n = 0;

	(void)s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		assert_int_equal(ec2_xml_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)),
				 -EINVAL);
		assert_null(r);
		assert_non_null(strstr(err, "malformed XML answer"));
	}
	assert_int_equal(ec2_xml_parse(bad[7], strlen(bad[7]), &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "DOCTYPE"));
	deep = malloc(200 * 3 + 1);
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	assert_int_equal(ec2_xml_parse(deep, n, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "deeply"));
	free(deep);
}

/* The tree lives in blocks (ec2_xml.c): text grows in place across many character-data
 * calls and moves when its block is full, names are shared, an element with children has no
 * text, and a tree of many blocks (more distinct names than are shared) reads back whole. */
static void
t_xml_blocks(void **s)
{
	const char ws[] = "<r>\n  <a> x </a>\n  lead<b>1</b>tail\n  <c></c><d/>\n</r>";
	struct ec2_xnode *r;
	char err[200], name[16];
	size_t cap = 8u << 20, n = 0;
	char *x = malloc(cap);
	const struct ec2_xnode *it;

	(void)s;
	assert_int_equal(ec2_xml_parse(ws, sizeof(ws) - 1, &r, err, sizeof(err)), 0);
	assert_string_equal(r->text, "");
	assert_string_equal(ec2_xml_text(r, "a"), " x ");
	assert_string_equal(ec2_xml_text(r, "b"), "1");
	assert_string_equal(ec2_xml_text(r, "c"), "");
	assert_string_equal(ec2_xml_text(r, "d"), "");
	assert_ptr_equal(ec2_xml_next(ec2_xml_child(r, "a")), NULL);
	ec2_xml_free(r);

	/* 20,000 elements of 300 names, then a text of 150,000 character-data calls (expat
	 * stops at each entity) that outgrows its 256 KiB block. */
	n += (size_t)sprintf(x + n, "<r>");
	for (int i = 0; i < 20000; i++)
		n += (size_t)sprintf(x + n, "<n%d>v%d</n%d>", i % 300, i, i % 300);
	n += (size_t)sprintf(x + n, "<long>");
	for (int i = 0; i < 50000; i++)
		n += (size_t)sprintf(x + n, "ab&amp;cd&lt;");
	n += (size_t)sprintf(x + n, "</long></r>");
	assert_int_equal(ec2_xml_parse(x, n, &r, err, sizeof(err)), 0);
	it = r->child;
	for (int i = 0; i < 20000; i++, it = it->next) {
		char v[16];

		assert_non_null(it);
		snprintf(name, sizeof(name), "n%d", i % 300);
		snprintf(v, sizeof(v), "v%d", i);
		assert_string_equal(it->name, name);
		assert_string_equal(it->text, v);
		assert_int_equal(it->text_len, strlen(v));
	}
	assert_string_equal(it->name, "long");
	assert_null(it->next);
	assert_int_equal(it->text_len, 50000 * 6);
	assert_int_equal(strlen(it->text), 50000 * 6);
	for (int i = 0; i < 50000; i++)
		assert_memory_equal(it->text + 6 * i, "ab&cd<", 6);
	ec2_xml_free(r);

	/* One text over the 1 MiB bound, in pieces: refused, nothing leaks. */
	n = (size_t)sprintf(x, "<r><t>");
	for (int i = 0; i < 250000; i++) /* 1.25 MB of text */
		n += (size_t)sprintf(x + n, "abcd&amp;");
	n += (size_t)sprintf(x + n, "</t></r>");
	assert_int_equal(ec2_xml_parse(x, n, &r, err, sizeof(err)), -EINVAL);
	assert_null(r);
	assert_non_null(strstr(err, "text too long"));
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_sigv4_vector), cmocka_unit_test(t_query),
		cmocka_unit_test(t_error_table),  cmocka_unit_test(t_subnet_specific),
		cmocka_unit_test(t_backoff),	  cmocka_unit_test(t_quota_group),
		cmocka_unit_test(t_normalize),	  cmocka_unit_test(t_spot_cache),
		cmocka_unit_test(t_fingerprint),  cmocka_unit_test(t_xml_good),
		cmocka_unit_test(t_xml_bad),	  cmocka_unit_test(t_xml_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
