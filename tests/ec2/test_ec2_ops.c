/* test_ec2_ops.c - every EC2 driver operation and RunInstances parameter against fake_ec2,
 * asserted on what the fake stored and logged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"

static struct fake F;
static uv_loop_t L;

static const char *const fake_args[] = { "--subnet-cidr",
					 "subnet-aaa=127.0.1.0/24",
					 "--subnet-cidr",
					 "subnet-bbb=127.0.2.0/24",
					 "--security-group",
					 "sg-0001=one",
					 "--security-group",
					 "sg-0002=two",
					 NULL };

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

static cJSON *
fake_instance(const char *id)
{
	char p[100];

	snprintf(p, sizeof(p), "/_fake/instances/%s", id);
	return fake_ctl(&F, "GET", p, NULL);
}

static const char *
jstr(const cJSON *j, const char *path)
{
	char buf[200], *save, *tok;
	const cJSON *x = j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && x; tok = strtok_r(NULL, ".", &save))
		x = cJSON_GetObjectItemCaseSensitive(x, tok);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* Every parameter of 2.4.1, read back from what the fake decoded and stored. */
static void
t_create_all_params(void **s)
{
	struct drv *d = drv_for(&L, &F,
				"{\"SubnetID\":[\"subnet-bbb\"],\"SecurityGroupIDs\":{\"sg-0001\":{"
				"},\"sg-0002\":{}},"
				"\"IAMInstanceProfile\":\"arv-prof\",\"EBSVolumeType\":\"gp3\","
				"\"AdminUsername\":\"crunch\"}",
				NULL);
	struct drv_itype t = { .name = "m5big",
			       .provider_type = "m5.large",
			       .price = 0.02,
			       .preemptible = true,
			       .added_scratch = (3LL << 30) + 1 };
	struct drv_tags tags = { 0 };
	struct op_result r;
	cJSON *j, *req;
	const char *ud;

	(void)s;
	assert_non_null(d);
	drv_tags_add(&tags, "ArvadosInstanceSetID", "zzzzz-zzzzz-zzzzzzzzzzzzzzz");
	drv_tags_add(&tags, "ArvadosInstanceSecret", "0123456789abcdef0123456789abcdef01234567");
	assert_int_equal(do_create(&L, d, &t, &tags, NULL, NULL, &r), 0);
	assert_false(r.failed);
	assert_string_equal(r.inst.provider_type, "m5.large");
	assert_string_equal(r.inst.subnet_id, "subnet-bbb");
	assert_true(r.inst.spot);
	assert_string_equal(drv_tags_get(&r.inst.tags, "ArvadosInstanceSetID"),
			    "zzzzz-zzzzz-zzzzzzzzzzzzzzz");
	assert_int_equal(strncmp(r.inst.address, "127.0.2.", 8), 0);
	assert_string_equal(d->ops->address(d, &r.inst), r.inst.address);
	assert_string_equal(d->ops->remote_user(d), "crunch");
	j = fake_instance(r.inst.id);
	req = cJSON_GetObjectItem(j, "request");
	assert_non_null(req);
	ud = jstr(j, "user_data");
	assert_non_null(ud);
	assert_int_equal(strncmp(ud, "#!/bin/sh\numask 0177 && echo -n \"0123456789abcdef", 48), 0);
	assert_int_equal(ud[strlen(ud) - 1], '\n');
	assert_string_equal(jstr(j, "metadata_options.HttpTokens"), "required");
	assert_string_equal(jstr(j, "metadata_options.HttpEndpoint"), "enabled");
	assert_string_equal(jstr(j, "lifecycle"), "spot");
	assert_string_equal(jstr(j, "shutdown_behavior"), "terminate");
	assert_string_equal(jstr(j, "client_token") ? "y" : "n", "y");
	{
		char *txt = cJSON_PrintUnformatted(req);

		/* the decoded request: every 2.4.1 member */
		assert_non_null(strstr(txt, "\"InstanceInterruptionBehavior\":\"terminate\""));
		assert_non_null(strstr(txt, "\"MaxPrice\":\"0.02\""));
		assert_non_null(strstr(txt, "\"MarketType\":\"spot\""));
		assert_non_null(strstr(txt, "\"DeviceName\":\"/dev/xvdt\""));
		assert_non_null(strstr(txt, "\"VolumeSize\":4"));
		assert_non_null(strstr(txt, "\"VolumeType\":\"gp3\""));
		assert_non_null(strstr(txt, "\"Name\":\"arv-prof\""));
		assert_non_null(strstr(txt, "\"AssociatePublicIpAddress\":false"));
		assert_non_null(strstr(txt, "\"DeleteOnTermination\":true"));
		assert_non_null(strstr(txt, "\"Groups\":[\"sg-0001\",\"sg-0002\"]"));
		assert_non_null(strstr(txt, "\"SubnetId\":\"subnet-bbb\""));
		assert_non_null(strstr(txt, "\"DisableApiTermination\":false"));
		assert_non_null(strstr(txt, "\"ResourceType\":\"instance\""));
		assert_non_null(strstr(txt, "\"MinCount\":1"));
		assert_non_null(strstr(txt, "\"MaxCount\":1"));
		assert_null(strstr(txt, "KeyName"));
		free(txt);
	}
	cJSON_Delete(j);
	op_result_free(&r);
	/* on-demand, no scratch: no spot options, no block device, price not sent */
	t.preemptible = false;
	t.added_scratch = 0;
	assert_int_equal(do_create(&L, d, &t, &tags, NULL, NULL, &r), 0);
	assert_false(r.failed);
	assert_false(r.inst.spot);
	j = fake_instance(r.inst.id);
	{
		char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "request"));

		assert_null(strstr(txt, "MarketType"));
		assert_null(strstr(txt, "BlockDeviceMappings"));
		free(txt);
	}
	cJSON_Delete(j);
	op_result_free(&r);
	drv_tags_free(&tags);
	drv_done_free(&L, d);
}

static char *
make_pubkey(void)
{
	char cmd[1200], path[300], line[2048];
	FILE *f;

	snprintf(path, sizeof(path), "%s/k", F.dir);
	snprintf(cmd, sizeof(cmd), "rm -f %s %s.pub; ssh-keygen -q -t rsa -b 2048 -N '' -C t -f %s",
		 path, path, path);
	if (system(cmd) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/k.pub", F.dir);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return strdup(line);
}

/* 2.3: import once (name from the fingerprint the fake computes itself), then reuse. */
static void
t_keypair(void **s)
{
	struct drv *d = drv_for(&L, &F, "{}", NULL);
	struct drv_itype t = { .name = "t3.small", .price = 0.1 };
	char *pk = make_pubkey();
	struct op_result r;
	cJSON *kps, *k;
	char want[200];

	(void)s;
	assert_non_null(pk);
	assert_int_equal(do_create(&L, d, &t, NULL, pk, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	kps = fake_ctl(&F, "GET", "/_fake/keypairs", NULL);
	if (cJSON_IsObject(kps) && cJSON_GetObjectItem(kps, "keypairs"))
		k = cJSON_GetArrayItem(cJSON_GetObjectItem(kps, "keypairs"), 0);
	else
		k = cJSON_GetArrayItem(kps, 0);
	assert_non_null(k);
	snprintf(want, sizeof(want), "arvados-dispatch-keypair-%s", jstr(k, "fingerprint"));
	assert_string_equal(jstr(k, "name"), want);
	cJSON_Delete(kps);
	assert_int_equal(fake_count(&F, "ImportKeyPair"), 1);
	assert_int_equal(fake_count(&F, "DescribeKeyPairs"), 1);
	assert_int_equal(do_create(&L, d, &t, NULL, pk, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	assert_int_equal(fake_count(&F, "ImportKeyPair"), 1); /* cached */
	assert_int_equal(fake_count(&F, "DescribeKeyPairs"), 1);
	drv_done_free(&L, d);
	/* a new driver (restart) finds the key by fingerprint, imports nothing */
	d = drv_for(&L, &F, "{}", NULL);
	assert_int_equal(do_create(&L, d, &t, NULL, pk, NULL, &r), 0);
	assert_false(r.failed);
	{
		cJSON *j = fake_instance(r.inst.id);

		assert_string_equal(jstr(j, "key_name"), want);
		cJSON_Delete(j);
	}
	op_result_free(&r);
	assert_int_equal(fake_count(&F, "ImportKeyPair"), 1);
	assert_int_equal(fake_count(&F, "DescribeKeyPairs"), 2);
	drv_done_free(&L, d);
	free(pk);
}

/* Tag filters, paging (both last-page forms), skipped states, streamed pages, set tags,
 * batched destroy. */
static void
t_list_paging_tags_destroy(void **s)
{
	struct ec2_driver_opts o = { .max_results = -1 };
	struct drv *d = drv_for(&L, &F, "{}", &o);
	struct drv_itype t = { .name = "t3.small", .price = 0.1 };
	struct drv_tags mine = { 0 }, other = { 0 }, nt = { 0 };
	struct op_result r;
	char *ids[7];
	size_t n = 0;

	(void)s;
	drv_tags_add(&mine, "ArvadosInstanceSetID", "mine");
	drv_tags_add(&other, "ArvadosInstanceSetID", "other");
	for (int i = 0; i < 7; i++) {
		assert_int_equal(do_create(&L, d, &t, &mine, NULL, NULL, &r), 0);
		assert_false(r.failed);
		ids[i] = strdup(r.inst.id);
		op_result_free(&r);
	}
	assert_int_equal(do_create(&L, d, &t, &other, NULL, NULL, &r), 0);
	op_result_free(&r);
	fake_ctl0(&F, "POST", "/_fake/config", "{\"page_size\":3}");
	for (int empty = 0; empty < 2; empty++) {
		fake_ctl0(&F, "POST", "/_fake/config",
			  empty ? "{\"empty_last_token\":true}" : "{\"empty_last_token\":false}");
		assert_int_equal(do_list(&L, d, &mine, &r), 0);
		assert_false(r.failed);
		assert_int_equal(r.n_list, 7);
		assert_int_equal(r.n_pages, 3);
		for (size_t i = 0; i < r.n_list; i++)
			assert_string_equal(drv_tags_get(&r.list[i].tags, "ArvadosInstanceSetID"),
					    "mine");
		op_result_free(&r);
	}
	{
		cJSON *log = fake_ctl(&F, "GET", "/_fake/requests?action=DescribeInstances", NULL);
		cJSON *last = cJSON_GetArrayItem(
			cJSON_GetObjectItem(log, "requests"),
			-1 + cJSON_GetArraySize(cJSON_GetObjectItem(log, "requests")));
		char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(last, "body"));

		assert_non_null(strstr(txt, "Filter.1.Name=tag%3AArvadosInstanceSetID"));
		assert_non_null(strstr(txt, "NextToken="));
		free(txt);
		cJSON_Delete(log);
	}
	/* set tags: merged on the instance */
	drv_tags_add(&nt, "ArvadosIdleBehavior", "hold");
	assert_int_equal(do_set_tags(&L, d, ids[0], &nt, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	{
		cJSON *j = fake_instance(ids[0]);

		assert_string_equal(jstr(j, "tags.ArvadosIdleBehavior"), "hold");
		assert_string_equal(jstr(j, "tags.ArvadosInstanceSetID"), "mine");
		cJSON_Delete(j);
	}
	/* destroy 5 in one call, and one unknown id among them gets its own error */
	{
		const char *v[6] = { ids[0], ids[1], ids[2], ids[3], "i-0123456789abcdef0", ids[4] };

		fake_ctl0(&F, "DELETE", "/_fake/requests", NULL);
		assert_int_equal(do_destroy(&L, d, v, 6, &r), 0);
		assert_int_equal(r.n_destroy, 6);
		for (size_t i = 0; i < 6; i++)
			assert_int_equal(r.destroy_errs[i].cls, i == 4 ? DRV_ERR_OTHER : DRV_OK);
		assert_string_equal(r.destroy_errs[4].code, "InvalidInstanceID.NotFound");
		op_result_free(&r);
		/* first call with all six (EC2 refuses it whole), then one with the five */
		assert_int_equal(fake_count(&F, "TerminateInstances"), 2);
		n = 0;
		assert_int_equal(do_list(&L, d, &mine, &r), 0);
		n = r.n_list; /* shutting-down/terminated ones are not listed */
		op_result_free(&r);
		assert_int_equal(n, 2);
	}
	for (int i = 0; i < 7; i++)
		free(ids[i]);
	drv_tags_free(&mine);
	drv_tags_free(&other);
	drv_tags_free(&nt);
	drv_done_free(&L, d);
}

/* Spot: listing spot instances refreshes the price cache; PriceHistory adds the EBS cost. */
static void
t_spot_prices(void **s)
{
	struct drv *d = drv_for(&L, &F, "{\"SpotPriceUpdateInterval\":\"1h\",\"EBSPrice\":0.72}",
				NULL);
	struct drv_itype t = {
		.name = "m5.large", .price = 0.5, .preemptible = true, .added_scratch = 10LL << 30
	};
	struct drv_tags tags = { 0 };
	struct op_result r;
	struct drv_price *p;
	size_t n;
	char qg[64];

	(void)s;
	fake_ctl0(&F, "POST", "/_fake/spot-prices",
		  "{\"replace\":true,\"prices\":["
		  "{\"instance_type\":\"m5.large\",\"availability_zone\":\"us-east-1a\",\"price\":"
		  "\"0.10\",\"age_seconds\":3000},"
		  "{\"instance_type\":\"m5.large\",\"availability_zone\":\"us-east-1a\",\"price\":"
		  "\"0.10\",\"age_seconds\":2000},"
		  "{\"instance_type\":\"m5.large\",\"availability_zone\":\"us-east-1a\",\"price\":"
		  "\"0.20\",\"age_seconds\":1000},"
		  "{\"instance_type\":\"m5.large\",\"availability_zone\":\"us-east-1b\",\"price\":"
		  "\"0.30\",\"age_seconds\":1000}]}");
	drv_tags_add(&tags, "ArvadosInstanceSetID", "spot");
	assert_int_equal(do_create(&L, d, &t, &tags, NULL, NULL, &r), 0);
	assert_false(r.failed);
	/* the instance returned by Create has no AZ known yet -> empty history, as the reference */
	op_result_free(&r);
	assert_int_equal(do_list(&L, d, &tags, &r), 0);
	assert_false(r.failed);
	assert_int_equal(r.n_list, 1);
	assert_true(r.list[0].spot);
	assert_string_equal(r.list[0].az, "us-east-1a");
	assert_int_equal(d->ops->price_history(d, &r.list[0], &t, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_true(p[0].price > 0.2099 && p[0].price < 0.2101); /* 0.20 + 0.72*10/720 */
	assert_true(p[1].price > 0.1099 && p[1].price < 0.1101);
	assert_true(p[0].start_time > p[1].start_time);
	assert_true(time(NULL) - p[1].start_time >= 2990); /* oldest of the equal run kept */
	free(p);
	op_result_free(&r);
	assert_int_equal(fake_count(&F, "DescribeSpotPriceHistory"), 1);
	{
		cJSON *log = fake_ctl(&F, "GET", "/_fake/requests?action=DescribeSpotPriceHistory",
				      NULL);
		char *txt = cJSON_PrintUnformatted(log);

		assert_non_null(strstr(txt, "Filter.2.Value.1=Linux%2FUNIX"));
		assert_non_null(strstr(txt, "Filter.1.Value.1=m5.large"));
		free(txt);
		cJSON_Delete(log);
	}
	/* fresh within the interval: no second lookup */
	assert_int_equal(do_list(&L, d, &tags, &r), 0);
	op_result_free(&r);
	assert_int_equal(fake_count(&F, "DescribeSpotPriceHistory"), 1);
	assert_int_equal(d->ops->quota_group(d, &t, qg, sizeof(qg)), 0);
	assert_string_equal(qg, "m-spot");
	drv_tags_free(&tags);
	drv_done_free(&L, d);
}

/* Default quota groups as DriverParameters carry them. */
static void
t_quota_groups_params(void **s)
{
	struct drv *d = drv_for(
		&L, &F, "{\"instancetypequotagroups\":{\"m\":\"standard\",\"p5\":\"p5\"}}", NULL);
	struct drv_itype a = { .name = "m5.xlarge" },
			 b = { .name = "x", .provider_type = "p5.48xlarge", .preemptible = true };
	char qg[64];

	(void)s;
	assert_int_equal(d->ops->quota_group(d, &a, qg, sizeof(qg)), 0);
	assert_string_equal(qg, "standard");
	assert_int_equal(d->ops->quota_group(d, &b, qg, sizeof(qg)), 0);
	assert_string_equal(qg, "p5-spot");
	drv_done_free(&L, d);
}

/* A request signed with a wrong secret is refused by the fake (the check is real). */
static void
t_wrong_secret(void **s)
{
	struct drv *d = drv_for(
		&L, &F, "{\"AccessKeyID\":\"AKIDEXAMPLE\",\"SecretAccessKey\":\"wrong\"}", NULL);
	struct op_result r;

	(void)s;
	assert_int_equal(do_list(&L, d, NULL, &r), 0);
	assert_true(r.failed);
	assert_string_equal(r.err.code, "SignatureDoesNotMatch");
	assert_int_equal(r.err.cls, DRV_ERR_OTHER);
	assert_non_null(strstr(r.err.text, "api error SignatureDoesNotMatch"));
	assert_null(strstr(r.err.text, "wrong"));
	op_result_free(&r);
	drv_done_free(&L, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_create_all_params, reset),
		cmocka_unit_test_setup(t_keypair, reset),
		cmocka_unit_test_setup(t_list_paging_tags_destroy, reset),
		cmocka_unit_test_setup(t_spot_prices, reset),
		cmocka_unit_test_setup(t_quota_groups_params, reset),
		cmocka_unit_test_setup(t_wrong_secret, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
