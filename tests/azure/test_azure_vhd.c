/*
 * test_azure_vhd.c - unmanaged VHD images (seed000-azure, seed001-azure-vhd) against
 * fake_azure for ARM and Azurite (the Azure Storage emulator, npm; installed by
 * scripts/install-azurite.sh) for the blobs: Azurite verifies every SharedKey signature the
 * driver makes. The fake ARM writes each VM's VHD page blob into Azurite with an infinite
 * lease, and releases it when the VM is deleted, as Azure does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "azh.h"
#include "azure_int.h"

#define ACCT "example"
/* base64 of 32 bytes "kkkk..." */
#define KEY "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="

static struct azh H;
static pid_t azurite;
static int azport;
static char blobdir[300];
static const struct drv_itype T = { .name = "d2", .provider_type = "Standard_D1_v2" };
static const char IMAGE[] = "https://zzzzzzzz.blob.core.windows.net/system/Microsoft.Compute/"
			    "Images/images/zzzzz-compute-osDisk.5555.vhd";
static const char PARAMS[] = "{\"StorageAccount\":\"" ACCT "\",\"BlobContainer\":\"vhds\","
			     "\"DeleteDanglingResourcesAfter\":\"0s\"}";

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* Blob names in the container with their lease state, one "name state" per line. */
static char *
blobs(void)
{
	static char out[4096];
	char cmd[1024];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'from azure.storage.blob import ContainerClient as C; "
		 "c=C.from_container_url(\"http://127.0.0.1:%d/" ACCT "/vhds\", credential="
		 "{\"account_name\":\"" ACCT "\",\"account_key\":\"" KEY "\"}); "
		 "[print(b.name, b.lease.state) for b in c.list_blobs()]'",
		 azport);
	p = popen(cmd, "r");
	n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = 0;
	if (p)
		pclose(p);
	return out;
}

static int
group_setup(void **st)
{
	char bin[512] = "", arg1[300], arg2[300];
	FILE *p;

	(void)st;
	p = popen("sh " SRC_DIR "/scripts/install-azurite.sh", "r");
	if (!p || !fgets(bin, sizeof(bin), p)) {
		fprintf(stderr, "cannot install Azurite (scripts/install-azurite.sh)\n");
		return -1;
	}
	pclose(p);
	bin[strcspn(bin, "\n")] = 0;
	snprintf(blobdir, sizeof(blobdir), "/tmp/adc-azurite.XXXXXX");
	if (!mkdtemp(blobdir))
		return -1;
	azport = 20000 + (int)(getpid() % 20000);
	azurite = fork();
	if (azurite == 0) {
		char port[16];

		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives a crashed test */
		snprintf(port, sizeof(port), "%d", azport);
		setenv("AZURITE_ACCOUNTS", ACCT ":" KEY, 1);
		freopen("/dev/null", "w", stdout);
		execl(bin, bin, "--blobHost", "127.0.0.1", "--blobPort", port, "--location",
		      blobdir, "--silent", "--disableTelemetry", "--skipApiVersionCheck",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (sh("(exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null", azport) == 0)
			break;
		usleep(100000);
	}
	if (sh("/usr/bin/python3 -c 'from azure.storage.blob import ContainerClient as C; "
	       "C.from_container_url(\"http://127.0.0.1:%d/" ACCT "/vhds\", credential="
	       "{\"account_name\":\"" ACCT "\",\"account_key\":\"" KEY "\"}).create_container()'",
	       azport) < 0) {
		fprintf(stderr, "Azurite did not start\n");
		return -1;
	}
	snprintf(arg1, sizeof(arg1), ACCT "=" KEY);
	snprintf(arg2, sizeof(arg2), "http://127.0.0.1:%d/" ACCT, azport);
	const char *args[] = { "--storage-account", arg1, "--blob-endpoint", arg2, NULL };

	return azh_start(&H, args);
}

static int
group_teardown(void **st)
{
	(void)st;
	azh_stop(&H);
	if (azurite > 0) {
		kill(azurite, SIGTERM);
		waitpid(azurite, NULL, 0);
	}
	sh("rm -rf %s", blobdir);
	return 0;
}

static void
test_vhd_create_destroy_gc(void **st)
{
	struct drv *d;
	struct drv_tags t = azh_tags();
	struct op_result r, o;
	cJSON *s;
	char want[600];
	struct azure_stats stats;
	uv_timer_t keep;

	(void)st;
	d = azh_driver(&H, PARAMS);
	assert_non_null(d);
	assert_int_equal(azh_create(&H, d, &T, IMAGE, &t, NULL, &r), 0);
	if (r.failed)
		fprintf(stderr, "create: %s\n", r.err.text);
	assert_false(r.failed);
	const char *name = strrchr(r.inst.id, '/') + 1;

	s = azh_state(&H);
	const cJSON *req = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "vms"), 0),
					       "request");
	const cJSON *od = cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(req, "properties"), "storageProfile"),
		"osDisk");
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(od, "image"), "uri")),
		IMAGE);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/" ACCT "/vhds/%s-os.vhd", azport, name);
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(od, "vhd"), "uri")),
		want);
	assert_null(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(req, "properties"), "storageProfile"),
		"imageReference"));
	cJSON_Delete(s);
	snprintf(want, sizeof(want), "%s-os.vhd leased", name);
	assert_non_null(strstr(blobs(), want));
	/* listKeys asked once, with its API version */
	assert_int_equal(azh_count(&H, "POST", "/storageAccounts/" ACCT "/listKeys"), 1);

	/* Destroy: the VM goes, its blob stays (lease released) until the blob GC deletes it;
	 * a foreign blob and a leased blob of ours stay. */
	sh("/usr/bin/python3 -c 'from azure.storage.blob import ContainerClient as C; "
	   "c=C.from_container_url(\"http://127.0.0.1:%d/" ACCT "/vhds\", credential="
	   "{\"account_name\":\"" ACCT "\",\"account_key\":\"" KEY "\"}); "
	   "c.get_blob_client(\"foreign-os.vhd\").create_page_blob(512); "
	   "b=c.get_blob_client(\"compute-" AZH_SET_ID "-leased000000000-os.vhd\"); "
	   "b.create_page_blob(512); b.acquire_lease(-1)'",
	   azport);
	const char *ids[] = { r.inst.id };
	assert_int_equal(do_destroy(&H.loop, d, ids, 1, &o), 0);
	assert_false(o.failed);
	op_result_free(&o);
	/* this driver deletes the VHD with the VM (the reference leaves it to the GC) */
	assert_null(strstr(blobs(), name));
	drv_done_free(&H.loop, d);
	/* a blob left by a crash between VM delete and blob delete: the GC's */
	sh("/usr/bin/python3 -c 'from azure.storage.blob import ContainerClient as C; "
	   "c=C.from_container_url(\"http://127.0.0.1:%d/" ACCT "/vhds\", credential="
	   "{\"account_name\":\"" ACCT "\",\"account_key\":\"" KEY "\"}); "
	   "c.get_blob_client(\"compute-" AZH_SET_ID
	   "-crashed00000000-os.vhd\").create_page_blob(512)'",
	   azport);

	azh_gc_interval_ms = 100;
	d = azh_driver(&H, PARAMS);
	azh_gc_interval_ms = -1;
	uv_timer_init(&H.loop, &keep); /* the GC timer is unref'd: keep the loop running */
	uv_timer_start(&keep, azh_keep_alive, 10, 10);
	uint64_t t0 = uv_now(&H.loop);
	do {
		uv_run(&H.loop, UV_RUN_ONCE);
		uv_update_time(&H.loop);
		azure_driver_stats(d, &stats);
	} while (stats.blobs_deleted == 0 && uv_now(&H.loop) - t0 < 20000);
	while (azure_driver_active(d) > 0)
		uv_run(&H.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&keep, NULL);
	assert_int_equal(stats.blobs_deleted, 1);
	char *left = blobs();

	assert_null(strstr(left, "-crashed00000000-os.vhd"));
	assert_non_null(strstr(left, "foreign-os.vhd"));
	assert_non_null(strstr(left, "-leased000000000-os.vhd leased"));
	drv_done_free(&H.loop, d);
	op_result_free(&r);
	drv_tags_free(&t);
}

static void
test_vhd_async_failure_leaves_nothing(void **st)
{
	struct drv *d = azh_driver(&H, PARAMS);
	struct drv_tags t = azh_tags();
	struct op_result r;
	cJSON *s;
	char before[4096];

	(void)st;
	snprintf(before, sizeof(before), "%s", blobs());
	azh_fault(&H, "{\"op\":\"vm_put\",\"async\":true,\"code\":\"AllocationFailed\","
		      "\"message\":\"no capacity\"}");
	assert_int_equal(azh_create(&H, d, &T, IMAGE, &t, NULL, &r), 0);
	assert_true(r.failed);
	assert_int_equal(r.err.cls, DRV_ERR_CAPACITY);
	s = azh_state(&H);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "vms")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "nics")), 0);
	cJSON_Delete(s);
	assert_string_equal(blobs(), before); /* its VHD blob was deleted */
	assert_int_equal(azh_count(&H, NULL, "/listKeys"), 1);
	op_result_free(&r);

	/* listKeys refused: Create fails with the reference's words, nothing made */
	drv_done_free(&H.loop, d);
	d = azh_driver(&H, PARAMS);
	fake_ctl0(&H.f, "DELETE", "/_fake/faults", NULL);
	fake_ctl0(&H.f, "DELETE", "/_fake/requests", NULL);
	azh_fault(&H, "{\"op\":\"list_keys\",\"status\":403,\"code\":\"AuthorizationFailed\","
		      "\"message\":\"no permission\"}");
	assert_int_equal(azh_create(&H, d, &T, IMAGE, &t, NULL, &r), 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.text, "Couldn't get account keys"));
	assert_non_null(strstr(r.err.text, "AuthorizationFailed"));
	assert_int_equal(azh_count(&H, "PUT", NULL), 0);
	op_result_free(&r);
	drv_done_free(&H.loop, d);
	drv_tags_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_vhd_create_destroy_gc, azh_reset),
		cmocka_unit_test_setup(test_vhd_async_failure_leaves_nothing, azh_reset),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
