/*
 * test_azure_ops.c - the Azure driver (cloudd/azure*.c) against tests/fake_azure over HTTPS.
 *
 * Every PUT body the driver sends is judged by the fake with python3-azure's models
 * (deserialize, serialize, diff, required attributes): a misspelt or read-only key makes the
 * fake answer 400 InvalidRequestContent, so each test also checks that no request was refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/base64.h>

#include "azh.h"
#include "azure_int.h"

static struct azh H;
static const struct drv_itype T_SMALL = { .name = "small",
					  .provider_type = "Standard_D1_v2",
					  .price = 0.1 };
static const struct drv_itype T_SPOT = {
	.name = "small.spot", .provider_type = "Standard_D2_v2", .price = 0.05, .preemptible = true
};
static const char PUBKEY[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests dispatch";

static int
group_setup(void **st)
{
	static const char *const args[] = {
		"--page-size",
		"2",
		"--image",
		"/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Compute/images/img1",
		"--image",
		"/subscriptions/sub-1/resourceGroups/imgrg/providers/Microsoft.Compute/galleries/"
		"gal1/"
		"images/def1/versions/1.2.3",
		NULL
	};

	(void)st;
	return azh_start(&H, args);
}

static int
group_teardown(void **st)
{
	(void)st;
	azh_stop(&H);
	return 0;
}

/* No request was refused by the fake (400: the models or a check said no). */
static void
assert_no_refusal(void)
{
	cJSON *root, *reqs = azh_requests(&H, &root), *it;

	cJSON_ArrayForEach(it, reqs)
	{
		int st = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(it, "status"));

		if (st == 400 || st == 401) {
			char *s = cJSON_Print(it);

			fprintf(stderr, "refused: %s\n", s);
			free(s);
		}
		assert_true(st != 400 && st != 401);
	}
	cJSON_Delete(root);
}

static const cJSON *
find_named(const cJSON *arr, const char *field, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
	{
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(it, field));

		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

static const cJSON *
jget(const cJSON *j, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save)) {
		if (*tok >= '0' && *tok <= '9')
			j = cJSON_GetArrayItem(j, atoi(tok));
		else
			j = cJSON_GetObjectItemCaseSensitive(j, tok);
	}
	return j;
}

static const char *
jstr(const cJSON *j, const char *path)
{
	return cJSON_GetStringValue(jget(j, path));
}

static void
test_create_managed_with_key(void **st)
{
	struct drv *d = azh_driver(&H, NULL);
	struct drv_tags tags = azh_tags();
	struct op_result r;
	cJSON *s;
	const cJSON *vm, *req;
	char name[200], script[512];
	unsigned char dec[512];
	size_t dl;

	(void)st;
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T_SMALL, "img1", &tags, PUBKEY, &r), 0);
	if (r.failed)
		fprintf(stderr, "create: %s\n", r.err.text);
	assert_false(r.failed);
	/* name scheme compute-<set id>-<15 of [a-z0-9]> */
	const char *n = strrchr(r.inst.id, '/') + 1;
	assert_int_equal(strncmp(n, "compute-" AZH_SET_ID "-", strlen("compute-" AZH_SET_ID "-")),
			 0);
	assert_int_equal(strlen(n), strlen("compute-" AZH_SET_ID "-") + 15);
	assert_int_equal(strspn(n + strlen("compute-" AZH_SET_ID "-"),
				"abcdefghijklmnopqrstuvwxyz0123456789"),
			 15);
	snprintf(name, sizeof(name), "%s", n);
	assert_string_equal(r.inst.provider_type, "Standard_D1_v2");
	assert_int_equal(strncmp(r.inst.address, "127.0.2.", 8), 0);
	assert_string_equal(drv_tags_get(&r.inst.tags, "ArvadosInstanceSetID"), AZH_SET_ID);
	int64_t ca;
	assert_non_null(drv_tags_get(&r.inst.tags, "created-at"));
	assert_int_equal(azure_parse_rfc3339(drv_tags_get(&r.inst.tags, "created-at"), &ca), 0);
	assert_true(llabs(ca - (int64_t)time(NULL)) < 60);
	assert_false(r.inst.spot);
	assert_string_equal(d->ops->address(d, &r.inst), r.inst.address);
	assert_string_equal(d->ops->remote_user(d), "crunch");

	s = azh_state(&H);
	vm = find_named(cJSON_GetObjectItem(s, "vms"), "name", name);
	assert_non_null(vm);
	req = cJSON_GetObjectItem(vm, "request");
	assert_string_equal(jstr(req, "properties.storageProfile.imageReference.id"),
			    "/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Compute/"
			    "images/img1");
	snprintf(script, sizeof(script), "%s-os", name);
	assert_string_equal(jstr(req, "properties.storageProfile.osDisk.name"), script);
	assert_string_equal(jstr(req, "properties.storageProfile.osDisk.createOption"),
			    "FromImage");
	assert_string_equal(jstr(req, "properties.osProfile.computerName"), name);
	assert_string_equal(jstr(req, "properties.osProfile.adminUsername"), "crunch");
	assert_true(cJSON_IsTrue(jget(
		req, "properties.osProfile.linuxConfiguration.disablePasswordAuthentication")));
	assert_string_equal(
		jstr(req, "properties.osProfile.linuxConfiguration.ssh.publicKeys.0.path"),
		"/home/crunch/.ssh/authorized_keys");
	snprintf(script, sizeof(script), "%s\n", PUBKEY);
	assert_string_equal(
		jstr(req, "properties.osProfile.linuxConfiguration.ssh.publicKeys.0.keyData"),
		script);
	const char *cd = jstr(req, "properties.osProfile.customData");
	assert_non_null(cd);
	assert_int_equal(mbedtls_base64_decode(dec, sizeof(dec) - 1, &dl, (const unsigned char *)cd,
					       strlen(cd)),
			 0);
	dec[dl] = 0;
	snprintf(script, sizeof(script), "#!/bin/sh\n%s\n", AZH_INIT);
	assert_string_equal((char *)dec, script);
	assert_true(cJSON_IsTrue(
		jget(req, "properties.networkProfile.networkInterfaces.0.properties.primary")));
	assert_null(jget(req, "properties.priority"));
	assert_null(jget(req, "properties.billingProfile"));
	assert_string_equal(jstr(req, "tags.ArvadosInstanceType"), "small");
	assert_non_null(jstr(req, "tags.created-at"));
	/* the NIC: name <vm>-nic, same tags, attached to the VM */
	snprintf(script, sizeof(script), "%s-nic", name);
	const cJSON *nic = find_named(cJSON_GetObjectItem(s, "nics"), "name", script);
	assert_non_null(nic);
	assert_string_equal(jstr(nic, "tags.ArvadosInstanceSetID"), AZH_SET_ID);
	assert_string_equal(jstr(nic, "properties.virtualMachine.id"), r.inst.id);
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "tokens_issued")), 1);
	cJSON_Delete(s);
	/* the API versions and the bearer on every ARM call */
	cJSON *root, *reqs = azh_requests(&H, &root), *it;
	int arm = 0;
	cJSON_ArrayForEach(it, reqs)
	{
		const char *p = jstr(it, "path"), *q = jstr(it, "query");

		if (strstr(p, "/oauth2/token")) {
			assert_string_equal(q, "api-version=1.0");
			continue;
		}
		arm++;
		assert_string_equal(jstr(it, "auth"), "bearer");
		/* an operation's status URL is under its resource's provider */
		if (strstr(p, "/virtualMachines") || strstr(p, "Microsoft.Compute/locations/"))
			assert_non_null(strstr(q, "api-version=2019-07-01"));
		else if (strstr(p, "/networkInterfaces") ||
			 strstr(p, "Microsoft.Network/locations/"))
			assert_non_null(strstr(q, "api-version=2018-06-01"));
		if (strcmp(jstr(it, "method"), "PUT") == 0)
			assert_string_equal(jstr(it, "headers.Content-Type"),
					    "application/json; charset=utf-8");
	}
	assert_true(arm >= 4);
	cJSON_Delete(root);
	assert_no_refusal();
	op_result_free(&r);
	drv_tags_free(&tags);
	drv_done_free(&H.loop, d);
}

static void
test_create_spot_gallery_no_key(void **st)
{
	struct drv *d = azh_driver(&H, "{\"ImageResourceGroup\":\"imgrg\","
				       "\"SharedImageGalleryName\":\"gal1\","
				       "\"SharedImageGalleryImageVersion\":\"1.2.3\","
				       "\"AdminUsername\":\"arv\"}");
	struct drv_tags tags = azh_tags();
	struct op_result r;
	cJSON *s;
	const cJSON *req;
	char buf[64];

	(void)st;
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T_SPOT, "def1", &tags, NULL, &r), 0);
	if (r.failed)
		fprintf(stderr, "create: %s\n", r.err.text);
	assert_false(r.failed);
	assert_true(r.inst.spot);
	assert_int_equal(d->ops->quota_group(d, &T_SPOT, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "spot");
	assert_int_equal(d->ops->quota_group(d, &T_SMALL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "regular");
	s = azh_state(&H);
	req = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "vms"), 0), "request");
	assert_string_equal(jstr(req, "properties.storageProfile.imageReference.id"),
			    "/subscriptions/sub-1/resourceGroups/imgrg/providers/Microsoft.Compute/"
			    "galleries/gal1/images/def1/versions/1.2.3");
	assert_string_equal(jstr(req, "properties.priority"), "Spot");
	assert_string_equal(jstr(req, "properties.evictionPolicy"), "Delete");
	assert_int_equal((int)cJSON_GetNumberValue(jget(req, "properties.billingProfile.maxPrice")),
			 -1);
	assert_null(jget(req, "properties.osProfile.linuxConfiguration.ssh"));
	assert_string_equal(jstr(req, "properties.osProfile.adminUsername"), "arv");
	cJSON_Delete(s);
	assert_no_refusal();
	op_result_free(&r);
	drv_tags_free(&tags);
	drv_done_free(&H.loop, d);
}

static void
test_config_refusals(void **st)
{
	struct drv *d = azh_driver(&H, "{\"SharedImageGalleryName\":\"gal1\"}");
	struct drv_tags tags = azh_tags();
	struct drv_itype scratch = T_SMALL;
	struct op_result r;
	cJSON *p;
	char err[512];

	(void)st;
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T_SMALL, "def1", &tags, NULL, &r), 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.text, "SharedImageGalleryImageVersion"));
	op_result_free(&r);
	scratch.added_scratch = 1000;
	assert_int_equal(azh_create(&H, d, &scratch, "img1", &tags, NULL, &r), 0);
	assert_true(r.failed);
	assert_non_null(
		strstr(r.err.text, "driver does not implement non-zero AddedScratch (1000)"));
	op_result_free(&r);
	drv_done_free(&H.loop, d);
	d = azh_driver(&H, NULL);
	assert_int_equal(azh_create(&H, d, &T_SMALL, "https://x.blob.core.windows.net/i/x.vhd",
				    &tags, NULL, &r),
			 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.text, "can't configure unmanaged image URL without "
					   "StorageAccount and BlobContainer"));
	op_result_free(&r);
	assert_int_equal(azh_count(&H, NULL, NULL), 0); /* nothing was sent */
	drv_done_free(&H.loop, d);
	drv_tags_free(&tags);

	/* construction refusals, each naming the problem */
	struct drv *bad = azh_driver(&H, "{\"CloudEnvironment\":\"AzureMoonCloud\"}");
	assert_null(bad);
	p = azh_params(&H, "{\"CloudEnvironment\":\"AzureMoonCloud\"}");
	assert_int_equal(azure_params_check(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "AzureMoonCloud"));
	cJSON_Delete(p);
	p = azh_params(&H, "{\"StorageAccount\":\"acct\"}");
	assert_int_equal(azure_params_check(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "BlobContainer"));
	cJSON_Delete(p);
	p = azh_params(&H, "{\"sharedimagegalleryimageversion\":\"1\"}"); /* any case */
	assert_int_equal(azure_params_check(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SharedImageGalleryName"));
	cJSON_Delete(p);
	p = azh_params(&H, "{\"DeleteDanglingResourcesAfter\":\"soon\"}");
	assert_int_equal(azure_params_check(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "DeleteDanglingResourcesAfter"));
	cJSON_Delete(p);
	p = azh_params(&H, "{\"ClientSecret\":\"\"}");
	assert_int_equal(azure_params_check(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ClientSecret is empty"));
	cJSON_Delete(p);
	p = azh_params(&H, "{\"CloudEnvironment\":\"azureusgovernmentcloud\"}");
	assert_int_equal(azure_params_check(p, err, sizeof(err)), 0);
	cJSON_Delete(p);
}

static void
test_list_paging_filter_foreign(void **st)
{
	struct drv *d = azh_driver(&H, NULL);
	struct drv_tags tags = azh_tags(), filter = { 0 }, other = azh_tags();
	struct op_result r, l;
	char ids[3][300];

	(void)st;
	assert_non_null(d);
	fake_ctl0(&H.f, "POST", "/_fake/foreign", "{\"name\":\"someone-else\"}");
	drv_tags_add(&other, "ArvadosInstanceSetID", "zzzzz-dz642-someotherset0001");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(azh_create(&H, d, &T_SMALL, "img1", &tags, NULL, &r), 0);
		assert_false(r.failed);
		snprintf(ids[i], sizeof(ids[i]), "%s", r.inst.id);
		op_result_free(&r);
	}
	assert_int_equal(azh_create(&H, d, &T_SMALL, "img1", &other, NULL, &r), 0);
	assert_false(r.failed);
	op_result_free(&r);
	drv_tags_add(&filter, "ArvadosInstanceSetID", AZH_SET_ID);
	fake_ctl0(&H.f, "DELETE", "/_fake/requests", NULL);
	assert_int_equal(do_list(&H.loop, d, &filter, &l), 0);
	assert_false(l.failed);
	assert_int_equal(l.n_list, 3);
	for (size_t i = 0; i < l.n_list; i++) {
		int found = 0;

		for (int k = 0; k < 3; k++)
			found += strcmp(l.list[i].id, ids[k]) == 0;
		assert_int_equal(found, 1);
		assert_int_equal(strncmp(l.list[i].address, "127.0.2.", 8), 0);
		assert_string_equal(l.list[i].state, "running");
		assert_string_equal(l.list[i].provider_type, "Standard_D1_v2");
	}
	/* 5 NICs and 5 VMs in pages of 2: 3 pages each */
	assert_int_equal(azh_count(&H, "GET", "/networkInterfaces"), 3);
	assert_int_equal(azh_count(&H, "GET", "/virtualMachines"), 3);
	op_result_free(&l);
	assert_no_refusal();
	drv_tags_free(&tags);
	drv_tags_free(&other);
	drv_tags_free(&filter);
	drv_done_free(&H.loop, d);
}

static void
test_set_tags_merge_and_destroy(void **st)
{
	struct drv *d = azh_driver(&H, NULL);
	struct drv_tags tags = azh_tags(), upd = { 0 };
	struct op_result r, o;
	cJSON *s;
	const cJSON *vm;

	(void)st;
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T_SMALL, "img1", &tags, NULL, &r), 0);
	assert_false(r.failed);
	drv_tags_add(&upd, "ArvadosIdleBehavior", "hold");
	drv_tags_add(&upd, "ArvadosInstanceType", "other");
	assert_int_equal(do_set_tags(&H.loop, d, r.inst.id, &upd, &o), 0);
	if (o.failed)
		fprintf(stderr, "set tags: %s\n", o.err.text);
	assert_false(o.failed);
	s = azh_state(&H);
	vm = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "vms"), 0);
	assert_string_equal(jstr(vm, "tags.ArvadosIdleBehavior"), "hold");
	assert_string_equal(jstr(vm, "tags.ArvadosInstanceType"), "other");
	assert_string_equal(jstr(vm, "tags.ArvadosInstanceSetID"), AZH_SET_ID); /* kept */
	assert_non_null(jstr(vm, "tags.created-at"));
	cJSON_Delete(s);
	op_result_free(&o);

	const char *ids[] = {
		r.inst.id,
		"/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Compute/"
		"virtualMachines/"
		"compute-" AZH_SET_ID "-gone00000000000",
		"/subscriptions/sub-1/resourceGroups/otherrg/providers/Microsoft.Compute/"
		"virtualMachines/x",
	};
	assert_int_equal(do_destroy(&H.loop, d, ids, 3, &o), 0);
	assert_int_equal(o.n_destroy, 3);
	assert_int_equal(o.destroy_errs[0].cls, DRV_OK);
	assert_int_equal(o.destroy_errs[1].cls, DRV_OK); /* already gone: done */
	assert_int_equal(o.destroy_errs[2].cls, DRV_ERR_OTHER);
	assert_non_null(strstr(o.destroy_errs[2].text, "is not a VM of resource group rg1"));
	op_result_free(&o);
	/* VM, NIC and OS disk all gone */
	usleep(100000);
	s = azh_state(&H);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "vms")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "nics")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "disks")), 0);
	cJSON_Delete(s);
	assert_no_refusal();
	op_result_free(&r);
	drv_tags_free(&tags);
	drv_tags_free(&upd);
	drv_done_free(&H.loop, d);
}

/* Each error class from a fault the fake injects into the VM PUT. */
static void
expect_create_error(struct drv *d, const struct drv_itype *t, const char *fault,
		    enum drv_err_class cls, struct op_result *r)
{
	struct drv_tags tags = azh_tags();

	fake_ctl0(&H.f, "DELETE", "/_fake/faults", NULL);
	assert_int_equal(azh_fault(&H, fault), 0);
	assert_int_equal(azh_create(&H, d, t, "img1", &tags, NULL, r), 0);
	assert_true(r->failed);
	if (r->err.cls != cls)
		fprintf(stderr, "%s -> %s (%s)\n", fault, drv_err_class_name(r->err.cls),
			r->err.text);
	assert_int_equal(r->err.cls, cls);
	drv_tags_free(&tags);
}

static void
assert_nothing_left(void)
{
	cJSON *s;

	usleep(50000);
	s = azh_state(&H);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "vms")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "nics")), 0);
	cJSON_Delete(s);
}

/* MissingSubscriptionRegistration (the Go SDK's auto-registration): two creates at once on a
 * subscription where neither namespace is registered: each namespace is registered once
 * (POST register, then provider GETs until Registered), both creates succeed. A registration
 * refused fails the create with the reference's words, and nothing is left. */
static void
test_provider_registration(void **st)
{
	struct drv *d = azh_driver(&H, NULL);
	struct drv_tags tags = azh_tags();
	struct op_result a, b;

	(void)st;
	assert_non_null(d);
	assert_int_equal(
		fake_ctl0(&H.f, "POST", "/_fake/config",
			  "{\"unregistered\":[\"Microsoft.Network\",\"Microsoft.Compute\"],"
			  "\"register_polls\":2}"),
		0);
	assert_int_equal(azh_create_start(d, &T_SMALL, "img1", &tags, NULL, &a), 0);
	assert_int_equal(azh_create_start(d, &T_SMALL, "img1", &tags, NULL, &b), 0);
	azh_wait(&H, &a);
	azh_wait(&H, &b);
	if (a.failed || b.failed)
		fprintf(stderr, "create: %s / %s\n", a.err.text, b.err.text);
	assert_false(a.failed);
	assert_false(b.failed);
	assert_int_equal(
		azh_count(&H, "POST", "/subscriptions/sub-1/providers/Microsoft.Network/register"),
		1);
	assert_int_equal(
		azh_count(&H, "POST", "/subscriptions/sub-1/providers/Microsoft.Compute/register"),
		1);
	assert_true(azh_count_op(&H, "provider_get") >= 4);	     /* 2 polls per namespace */
	assert_true(azh_count(&H, "PUT", "/virtualMachines/") >= 3); /* refused, sent again */
	assert_no_refusal();
	op_result_free(&a);
	op_result_free(&b);

	/* Refused: the create fails (not a quota or capacity error) and its NIC is deleted. */
	assert_int_equal(azh_reset(NULL), 0);
	fake_ctl0(&H.f, "POST", "/_fake/config", "{\"unregistered\":[\"Microsoft.Compute\"]}");
	assert_int_equal(azh_fault(&H, "{\"op\":\"provider_register\",\"status\":403,"
				       "\"code\":\"AuthorizationFailed\",\"message\":\"The client "
				       "does not have authorization to perform action "
				       "'Microsoft.Compute/register/action'\"}"),
			 0);
	drv_done_free(&H.loop, d); /* a new driver: this process registered Compute already */
	d = azh_driver(&H, NULL);
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T_SMALL, "img1", &tags, NULL, &a), 0);
	assert_true(a.failed);
	assert_int_equal(a.err.cls, DRV_ERR_OTHER);
	assert_non_null(
		strstr(a.err.text, "failed auto registering Resource Provider Microsoft.Compute"));
	assert_non_null(strstr(a.err.text, "AuthorizationFailed"));
	assert_nothing_left();
	op_result_free(&a);
	drv_tags_free(&tags);
	drv_done_free(&H.loop, d);
}

/* The create fails with the fault `fault` (a 429), and its earliest retry is `delay_ms` after
 * the answer came, within `slack_ms`: bracketed by the driver's own clock read before and
 * after the call, so that a slow call (ASan, a loaded machine) cannot move the window. */
static void
expect_retry_after(struct drv *d, const char *fault, int64_t delay_ms, int64_t slack_ms)
{
	struct op_result r;
	int64_t before = az_now_ms(), after;

	expect_create_error(d, &T_SMALL, fault, DRV_ERR_RATE_LIMIT, &r);
	after = az_now_ms();
	assert_int_equal(r.err.http_status, 429);
	assert_in_range(r.err.earliest_retry_ms, before + delay_ms - slack_ms,
			after + delay_ms + slack_ms);
	assert_nothing_left(); /* the NIC made before the VM PUT is deleted */
	op_result_free(&r);
}

static void
test_error_classes(void **st)
{
	struct drv *d = azh_driver(&H, NULL);
	struct op_result r;

	(void)st;
	assert_non_null(d);
	expect_retry_after(d,
			   "{\"op\":\"vm_put\",\"status\":429,\"code\":\"TooManyRequests\","
			   "\"message\":\"throttled\",\"retry_after\":\"7\"}",
			   7000, 0);
	/* An HTTP date 40 s ahead: whole seconds, so up to 1 s early. */
	expect_retry_after(d,
			   "{\"op\":\"vm_put\",\"status\":429,\"code\":\"TooManyRequests\","
			   "\"message\":\"throttled\",\"retry_after\":\"date:40\"}",
			   40000, 1000);
	/* No Retry-After: the driver's 20 s. */
	expect_retry_after(d,
			   "{\"op\":\"nic_put\",\"status\":429,\"code\":\"TooManyRequests\","
			   "\"message\":\"throttled\"}",
			   20000, 0);
	expect_create_error(d, &T_SMALL,
			    "{\"op\":\"vm_put\",\"status\":409,\"code\":\"OperationNotAllowed\","
			    "\"message\":\"Operation could not be completed as it results in "
			    "exceeding approved Total Regional Cores quota.\"}",
			    DRV_ERR_QUOTA, &r);
	assert_non_null(strstr(r.err.text, "OperationNotAllowed"));
	assert_nothing_left();
	op_result_free(&r);
	expect_create_error(d, &T_SPOT,
			    "{\"op\":\"vm_put\",\"status\":409,\"code\":\"SkuNotAvailable\","
			    "\"message\":\"The requested size for resource is currently not "
			    "available in location centralus.\"}",
			    DRV_ERR_CAPACITY, &r);
	assert_true(r.err.type_specific);
	assert_true(r.err.spot);
	assert_string_equal(r.err.instance_type, "Standard_D2_v2");
	op_result_free(&r);
	/* asynchronous: the VM exists in state Failed holding the NIC; both are deleted */
	expect_create_error(d, &T_SMALL,
			    "{\"op\":\"vm_put\",\"async\":true,\"code\":\"AllocationFailed\","
			    "\"message\":\"Allocation failed. We do not have sufficient capacity "
			    "for the requested VM size in this region.\"}",
			    DRV_ERR_CAPACITY, &r);
	assert_true(r.err.type_specific);
	assert_string_equal(r.err.code, "AllocationFailed");
	assert_nothing_left();
	op_result_free(&r);
	expect_create_error(d, &T_SMALL,
			    "{\"op\":\"vm_put\",\"status\":400,\"code\":\"InvalidParameter\","
			    "\"message\":\"something else\"}",
			    DRV_ERR_OTHER, &r);
	assert_non_null(strstr(r.err.text, "VM PUT: api error InvalidParameter: something else"));
	op_result_free(&r);
	/* the list: rate limit on the first page fails it */
	struct op_result l;
	fake_ctl0(&H.f, "DELETE", "/_fake/faults", NULL);
	azh_fault(&H, "{\"op\":\"vm_list\",\"status\":429,\"code\":\"TooManyRequests\","
		      "\"retry_after\":\"3\"}");
	assert_int_equal(do_list(&H.loop, d, NULL, &l), 0);
	assert_true(l.failed);
	assert_int_equal(l.err.cls, DRV_ERR_RATE_LIMIT);
	op_result_free(&l);
	fake_ctl0(&H.f, "DELETE", "/_fake/faults", NULL);
	drv_done_free(&H.loop, d);
}

static void
test_token_refresh_and_secret(void **st)
{
	struct drv *d;
	struct drv_tags tags = azh_tags();
	struct op_result r, l;
	cJSON *s;

	(void)st;
	/* A token living 302 s is inside the 5-minute margin after 2 s: refreshed lazily. */
	fake_ctl0(&H.f, "POST", "/_fake/config", "{\"token_ttl\":302}");
	d = azh_driver(&H, NULL);
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T_SMALL, "img1", &tags, NULL, &r), 0);
	assert_false(r.failed);
	sleep(3);
	assert_int_equal(do_list(&H.loop, d, NULL, &l), 0);
	assert_false(l.failed);
	op_result_free(&l);
	s = azh_state(&H);
	assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "tokens_issued")), 2);
	cJSON_Delete(s);
	/* a token revoked early: one 401, a new token, the call succeeds */
	fake_ctl0(&H.f, "POST", "/_fake/config", "{\"token_ttl\":3600}");
	assert_int_equal(do_list(&H.loop, d, NULL, &l), 0); /* takes a long-lived token */
	op_result_free(&l);
	fake_ctl0(&H.f, "POST", "/_fake/expire-tokens", NULL);
	assert_int_equal(do_list(&H.loop, d, NULL, &l), 0);
	assert_false(l.failed);
	assert_int_equal(l.n_list, 1);
	op_result_free(&l);
	op_result_free(&r);
	drv_done_free(&H.loop, d);

	/* wrong secret: a clear error, and the secret is not in it */
	d = azh_driver(&H, "{\"ClientSecret\":\"wrong-secret-value\"}");
	assert_int_equal(do_list(&H.loop, d, NULL, &l), 0);
	assert_true(l.failed);
	assert_non_null(strstr(l.err.text, "invalid_client"));
	assert_null(strstr(l.err.text, "wrong-secret-value"));
	op_result_free(&l);
	drv_done_free(&H.loop, d);
	drv_tags_free(&tags);
}

static void
test_dangling_nic(void **st)
{
	struct drv *d = azh_driver(&H, NULL);
	struct op_result l;
	cJSON *s;

	(void)st;
	/* ours and old, ours and young, old but someone else's */
	fake_ctl0(&H.f, "POST", "/_fake/nic",
		  "{\"name\":\"compute-" AZH_SET_ID "-old000000000000-nic\","
		  "\"tags\":{\"created-at\":\"2020-01-02T03:04:05.123456789+01:00\"}}");
	char young[300], when[40];
	time_t t = time(NULL);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(young, sizeof(young),
		 "{\"name\":\"compute-" AZH_SET_ID "-new000000000000-nic\","
		 "\"tags\":{\"created-at\":\"%s\"}}",
		 when);
	fake_ctl0(&H.f, "POST", "/_fake/nic", young);
	fake_ctl0(&H.f, "POST", "/_fake/nic",
		  "{\"name\":\"foreign-nic\",\"tags\":{\"created-at\":\"2020-01-02T03:04:05Z\"}}");
	assert_int_equal(do_list(&H.loop, d, NULL, &l), 0);
	assert_false(l.failed);
	op_result_free(&l);
	while (azure_driver_active(d) > 0) /* the delete is not awaited by the list */
		uv_run(&H.loop, UV_RUN_ONCE);
	assert_int_equal(azh_count(&H, "DELETE", "/networkInterfaces/"), 1);
	assert_int_equal(azh_count(&H, "DELETE", "-old000000000000-nic"), 1);
	sleep(3); /* the fake finishes an unpolled delete after 2 s */
	s = azh_state(&H);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "nics")), 2);
	cJSON_Delete(s);
	drv_done_free(&H.loop, d);
}

static void
test_disk_gc(void **st)
{
	uv_timer_t keep; /* the GC timer is unref'd: something must keep the loop running */
	struct drv *d;
	struct azure_stats stats;
	cJSON *s;
	const cJSON *it;
	uint64_t t0 = uv_now(&H.loop);

	(void)st;
	fake_ctl0(&H.f, "POST", "/_fake/disk",
		  "{\"name\":\"compute-" AZH_SET_ID "-old000000000000-os\","
		  "\"timeCreated\":\"2020-01-02T03:04:05.1234567+00:00\"}");
	fake_ctl0(&H.f, "POST", "/_fake/disk",
		  "{\"name\":\"compute-" AZH_SET_ID "-att000000000000-os\",\"diskState\":"
		  "\"Attached\",\"timeCreated\":\"2020-01-02T03:04:05Z\"}");
	fake_ctl0(&H.f, "POST", "/_fake/disk",
		  "{\"name\":\"compute-" AZH_SET_ID "-young0000000000-os\"}");
	fake_ctl0(&H.f, "POST", "/_fake/disk",
		  "{\"name\":\"someone-elses-os\",\"timeCreated\":\"2020-01-02T03:04:05Z\"}");
	azh_gc_interval_ms = 100;
	d = azh_driver(&H, NULL);
	azh_gc_interval_ms = -1;
	assert_non_null(d);
	uv_timer_init(&H.loop, &keep);
	uv_timer_start(&keep, azh_keep_alive, 10, 10);
	do {
		uv_run(&H.loop, UV_RUN_ONCE);
		uv_update_time(&H.loop);
		azure_driver_stats(d, &stats);
	} while (stats.disks_deleted == 0 && uv_now(&H.loop) - t0 < 20000);
	while (azure_driver_active(d) > 0)
		uv_run(&H.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&keep, NULL);
	assert_int_equal(stats.disks_deleted, 1);
	s = azh_state(&H);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "disks")), 3);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(s, "disks"))
		assert_null(strstr(jstr(it, "name"), "-old0"));
	cJSON_Delete(s);
	drv_done_free(&H.loop, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_create_managed_with_key, azh_reset),
		cmocka_unit_test_setup(test_create_spot_gallery_no_key, azh_reset),
		cmocka_unit_test_setup(test_config_refusals, azh_reset),
		cmocka_unit_test_setup(test_list_paging_filter_foreign, azh_reset),
		cmocka_unit_test_setup(test_set_tags_merge_and_destroy, azh_reset),
		cmocka_unit_test_setup(test_error_classes, azh_reset),
		cmocka_unit_test_setup(test_provider_registration, azh_reset),
		cmocka_unit_test_setup(test_token_refresh_and_secret, azh_reset),
		cmocka_unit_test_setup(test_dangling_nic, azh_reset),
		cmocka_unit_test_setup(test_disk_gc, azh_reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
