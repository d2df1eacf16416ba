/*
 * test_config_load.c - loading real files: every example, the older layout against its
 * new-layout twin, the CUDA mapping, every default and fallback of spec 1.3, secrets kept
 * away from the workers' copy, instance-type rules, unknown keys and diagnostics.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define SEC   1000000000LL
#define EX(f) CFG_TEST_DIR "/examples/" f
#define HEAD                  \
	"Clusters:\n"         \
	"  abcde:\n"          \
	"    Services:\n"     \
	"      Controller:\n" \
	"        ExternalURL: https://abcde.example.com:8443/\n"

static struct cfg_cluster *
load_str(const char *yaml, struct cfg_diags *d)
{
	return cfg_load_buffer(yaml, strlen(yaml), "test.yml", d);
}

static void
dump_diags(const struct cfg_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = cfg_diag_format(&d->v[i]);
		print_message("  %s\n", s);
		free(s);
	}
}

/* The number of diags (of the given kind) whose key path is key and message contains text. */
static int
count_diag(const struct cfg_diags *d, bool is_error, const char *key, const char *text)
{
	int n = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].is_error == is_error &&
		    (!key || (d->v[i].key_path && !strcmp(d->v[i].key_path, key))) &&
		    strstr(d->v[i].message, text))
			n++;
	return n;
}

static void
test_examples_load(void **state)
{
	DIR *dir = opendir(CFG_TEST_DIR "/examples");
	struct dirent *de;
	char path[1024];
	int n = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		struct cfg_diags d = { 0 };
		struct cfg_cluster *c;
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".yml"))
			continue;
		snprintf(path, sizeof(path), "%s/examples/%s", CFG_TEST_DIR, de->d_name);
		c = cfg_load(path, &d);
		if (!c || d.nerrors)
			dump_diags(&d);
		assert_non_null(c);
		assert_int_equal(d.nerrors, 0);
		assert_string_equal(c->cluster_id, "zzzzz");
		assert_non_null(c->secrets.dispatch_private_key);
		assert_true(c->n_instance_types >= 1);
		assert_string_equal(c->controller_external_url, "https://zzzzz.arvadosapi.com");
		/* xyzzy is short: one warning, naming the key. */
		assert_int_equal(
			count_diag(&d, false, "Clusters.zzzzz.ManagementToken", "too short"), 1);
		cfg_free(c);
		cfg_diags_free(&d);
		n++;
	}
	closedir(dir);
	assert_int_equal(n, 8); /* the seven seed examples and pglock-ec2.yml */
}

static void
test_seed000_warnings(void **state)
{
	static const char *const files[] = { EX("seed000-ec2.yml"), EX("seed000-azure.yml") };
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct cfg_diags d = { 0 };
		struct cfg_cluster *c = cfg_load(files[i], &d);
		assert_non_null(c);
		assert_int_equal(count_diag(&d, false, "Clusters.zzzzz.CloudVMs",
					    "use Clusters.zzzzz.Containers.CloudVMs"),
				 1);
		assert_int_equal(count_diag(&d, false, "Clusters.zzzzz.Dispatch.PrivateKey",
					    "use Clusters.zzzzz.Containers.DispatchPrivateKey"),
				 1);
		assert_int_equal(
			count_diag(&d, false,
				   "Clusters.zzzzz.NodeProfiles.apiserver.arvados-dispatch-cloud."
				   "Listen",
				   "use Clusters.zzzzz.Services.DispatchCloud.InternalURLs"),
			1);
		/* Exactly those three, and the short-token warning. */
		assert_int_equal(d.n, 4);
		/* Positions point at the old keys. */
		for (size_t j = 0; j < d.n; j++)
			if (!strcmp(d.v[j].key_path, "Clusters.zzzzz.CloudVMs")) {
				assert_int_equal(d.v[j].line, 13);
				assert_int_equal(d.v[j].column, 5);
			}
		/* Old-layout values really were moved. */
		assert_string_equal(c->containers.cloudvms.boot_probe_command,
				    "sudo systemctl status docker");
		assert_int_equal(c->n_dispatch_internal_urls, 1);
		assert_string_equal(c->dispatch_internal_urls[0].url, "http://localhost:9006");
		assert_string_equal(c->dispatch_internal_urls[0].listen_url, "http://0.0.0.0:9006");
		assert_null(strstr(c->worker_cluster_json, "NodeProfiles"));
		assert_null(strstr(c->worker_cluster_json, "\"Dispatch\""));
		cfg_free(c);
		cfg_diags_free(&d);
	}
}

static void
same_itypes(const struct cfg_cluster *a, const struct cfg_cluster *b)
{
	assert_int_equal(a->n_instance_types, b->n_instance_types);
	for (size_t i = 0; i < a->n_instance_types; i++) {
		const struct cfg_instance_type *x = &a->instance_types[i],
					       *y = &b->instance_types[i];
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->provider_type, y->provider_type);
		assert_int_equal(x->vcpus, y->vcpus);
		assert_int_equal(x->ram, y->ram);
		assert_int_equal(x->included_scratch, y->included_scratch);
		assert_int_equal(x->added_scratch, y->added_scratch);
		assert_int_equal(x->scratch, y->scratch);
		assert_true(x->price == y->price);
		assert_int_equal(x->preemptible, y->preemptible);
		assert_int_equal(x->gpu.stack, y->gpu.stack);
		assert_int_equal(x->gpu.device_count, y->gpu.device_count);
	}
}

static void
same_cloudvms(const struct cfg_cloudvms *a, const struct cfg_cloudvms *b)
{
	assert_string_equal(a->driver, b->driver);
	assert_string_equal(a->image_id, b->image_id);
	assert_string_equal(a->instance_init_command, b->instance_init_command);
	assert_string_equal(a->ssh_port, b->ssh_port);
	assert_string_equal(a->boot_probe_command, b->boot_probe_command);
	assert_string_equal(a->deploy_runner_binary, b->deploy_runner_binary);
	assert_string_equal(a->deploy_runner_directory, b->deploy_runner_directory);
	assert_string_equal(a->tag_key_prefix, b->tag_key_prefix);
	assert_true(a->poll_interval == b->poll_interval && a->sync_interval == b->sync_interval &&
		    a->probe_interval == b->probe_interval && a->timeout_idle == b->timeout_idle &&
		    a->timeout_booting == b->timeout_booting &&
		    a->timeout_probe == b->timeout_probe &&
		    a->timeout_shutdown == b->timeout_shutdown &&
		    a->timeout_term == b->timeout_term && a->timeout_signal == b->timeout_signal &&
		    a->timeout_stale_run_lock == b->timeout_stale_run_lock);
	assert_true(a->max_probes_per_second == b->max_probes_per_second &&
		    a->max_cloud_ops_per_second == b->max_cloud_ops_per_second &&
		    a->supervisor_fraction == b->supervisor_fraction);
	assert_int_equal(a->max_concurrent_instance_create_ops,
			 b->max_concurrent_instance_create_ops);
	assert_int_equal(a->max_instances, b->max_instances);
	assert_int_equal(a->max_running_containers_per_instance,
			 b->max_running_containers_per_instance);
	assert_int_equal(a->initial_quota_estimate, b->initial_quota_estimate);
	assert_int_equal(a->deploy_public_key, b->deploy_public_key);
	assert_int_equal(a->n_resource_tags, b->n_resource_tags);
}

/* The older layout gives the same settings as its twin, except what really differs. */
static void
test_seed000_vs_seed001(void **state)
{
	struct cfg_diags d0 = { 0 }, d1 = { 0 };
	struct cfg_cluster *a = cfg_load(EX("seed000-ec2.yml"), &d0);
	struct cfg_cluster *b = cfg_load(EX("seed001-ec2.yml"), &d1);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->cluster_id, b->cluster_id);
	assert_string_equal(a->system_root_token, b->system_root_token);
	assert_string_equal(a->management_token, b->management_token);
	assert_string_equal(a->controller_external_url, b->controller_external_url);
	assert_int_equal(a->n_dispatch_internal_urls, b->n_dispatch_internal_urls);
	assert_string_equal(a->dispatch_internal_urls[0].url, b->dispatch_internal_urls[0].url);
	/* Differs on purpose: ":9006" meant all addresses; the twin listens where its URL is. */
	assert_string_equal(b->dispatch_internal_urls[0].listen_url, "");
	assert_int_equal(a->tls_insecure, b->tls_insecure);
	assert_string_equal(a->log_format, b->log_format);
	assert_string_equal(a->log_level, b->log_level);
	assert_string_equal(a->containers.crunch_run_command, b->containers.crunch_run_command);
	assert_string_equal(a->containers.runtime_engine, b->containers.runtime_engine);
	assert_int_equal(a->containers.reserve_extra_ram, b->containers.reserve_extra_ram);
	assert_true(a->containers.maximum_price_factor == b->containers.maximum_price_factor);
	assert_true(a->containers.stale_lock_timeout == b->containers.stale_lock_timeout);
	same_cloudvms(&a->containers.cloudvms, &b->containers.cloudvms);
	same_itypes(a, b);
	/* The same key, moved from Dispatch.PrivateKey. */
	assert_int_equal(a->secrets.dispatch_private_key_len, b->secrets.dispatch_private_key_len);
	assert_memory_equal(a->secrets.dispatch_private_key, b->secrets.dispatch_private_key,
			    b->secrets.dispatch_private_key_len);
	/* Really different: the credentials and AdminUsername in the documents. */
	assert_non_null(strstr(a->secrets.driver_parameters_json, "\"AdminUsername\":\"debian\""));
	assert_non_null(strstr(b->secrets.driver_parameters_json, "\"AdminUsername\":\"arvados\""));
	assert_non_null(strstr(a->secrets.driver_parameters_json,
			       "\"SecurityGroupIDs\":[\"sg-0123abcd\"]"));
	assert_non_null(strstr(b->secrets.driver_parameters_json,
			       "\"SecurityGroupIDs\":[\"sg-0123abcd\"]"));
	cfg_free(a);
	cfg_free(b);
	cfg_diags_free(&d0);
	cfg_diags_free(&d1);
}

static void
test_seed001_gpu(void **state)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = cfg_load(EX("seed001-gpu.yml"), &d);
	const struct cfg_instance_type *t;

	(void)state;
	assert_non_null(c);
	t = cfg_instance_type(c, "g4dn");
	assert_non_null(t);
	assert_int_equal(t->gpu.stack, CFG_GPU_CUDA);
	assert_string_equal(t->gpu.driver_version, "11.4");
	assert_string_equal(t->gpu.hardware_target, "7.5");
	assert_int_equal(t->gpu.device_count, 1);
	assert_int_equal(t->vcpus, 4);
	assert_int_equal(t->ram, 16LL << 30);
	assert_int_equal(t->scratch, 125000000000LL);
	assert_int_equal(count_diag(&d, false, "Clusters.zzzzz.InstanceTypes.g4dn.CUDA",
				    "use Clusters.zzzzz.InstanceTypes.g4dn.GPU"),
			 1);
	assert_non_null(strstr(c->worker_cluster_json, "\"Stack\":\"cuda\""));
	assert_null(strstr(c->worker_cluster_json, "CUDA"));
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_defaults(void **state)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(HEAD, &d);
	const struct cfg_containers *k;
	const struct cfg_cloudvms *v;

	(void)state;
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	k = &c->containers;
	v = &k->cloudvms;
	assert_string_equal(c->cluster_id, "abcde");
	assert_string_equal(c->source_path, "test.yml");
	assert_string_equal(c->system_root_token, "");
	assert_string_equal(c->management_token, "");
	assert_int_equal(c->n_dispatch_internal_urls, 0);
	assert_false(c->tls_insecure);
	assert_string_equal(c->tls_certificate, "");
	assert_string_equal(c->tls_key, "");
	assert_int_equal(c->api_max_concurrent_requests, 64);
	assert_int_equal(c->api_max_queued_requests, 128);
	assert_true(c->api_request_timeout == 300 * SEC);
	assert_string_equal(c->log_format, "json");
	assert_string_equal(c->log_level, "info");
	assert_string_equal(k->crunch_run_command, "crunch-run");
	assert_int_equal(k->n_crunch_run_arguments, 0);
	assert_string_equal(k->runtime_engine, "docker");
	assert_int_equal(k->reserve_extra_ram, 576716800LL);
	assert_int_equal(k->local_keep_blob_buffers_per_vcpu, 1);
	assert_true(k->maximum_price_factor == 1.5);
	assert_true(k->stale_lock_timeout == 60 * SEC);
	assert_true(k->preemptible_price_factor == 0);
	assert_int_equal(k->max_dispatch_attempts, 10);
	assert_string_equal(k->local_keep_logs_to_container_log, "none");
	assert_string_equal(v->driver, "ec2");
	assert_string_equal(v->image_id, "");
	assert_string_equal(v->instance_init_command, "");
	assert_string_equal(v->ssh_port, "22");
	assert_true(v->poll_interval == 10 * SEC);
	assert_true(v->sync_interval == 60 * SEC);
	assert_true(v->probe_interval == 10 * SEC);
	assert_true(v->max_probes_per_second == 10);
	assert_string_equal(v->boot_probe_command, "systemctl is-system-running");
	assert_true(v->timeout_idle == 60 * SEC);
	assert_true(v->timeout_booting == 600 * SEC);
	assert_true(v->timeout_probe == 600 * SEC);
	assert_true(v->timeout_shutdown == 10 * SEC);
	assert_true(v->timeout_term == 120 * SEC);
	assert_true(v->timeout_signal == 5 * SEC);
	assert_true(v->timeout_stale_run_lock == 5 * SEC);
	assert_true(v->max_cloud_ops_per_second == 10);
	assert_int_equal(v->max_concurrent_instance_create_ops, 1);
	assert_int_equal(v->max_instances, 64);
	assert_int_equal(v->max_running_containers_per_instance, 0);
	assert_int_equal(v->initial_quota_estimate, 0);
	assert_true(v->supervisor_fraction == 0.5);
	assert_string_equal(v->deploy_runner_binary, "/proc/self/exe");
	assert_string_equal(v->deploy_runner_directory, "/tmp/arvados-crunch-run");
	assert_true(v->deploy_public_key);
	assert_int_equal(v->n_resource_tags, 0);
	assert_string_equal(v->tag_key_prefix, "Arvados");
	assert_false(v->enable);
	assert_int_equal(c->n_instance_types, 0);
	assert_string_equal(c->secrets.driver_parameters_json, "{}");
	assert_null(c->secrets.dispatch_private_key);
	assert_null(c->secrets.dispatch_private_key_path);
	/* Both tokens empty: a warning each, no error. */
	assert_int_equal(count_diag(&d, false, "Clusters.abcde.SystemRootToken", "empty"), 1);
	assert_int_equal(count_diag(&d, false, "Clusters.abcde.ManagementToken", "empty"), 1);
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_fallbacks(void **state)
{
	static const char yaml[] = HEAD "    Containers:\n"
					"      MaximumPriceFactor: 0.5\n"
					"      CloudVMs:\n"
					"        SSHPort: \"\"\n"
					"        BootProbeCommand: \"\"\n"
					"        PollInterval: 0s\n"
					"        SyncInterval: 0s\n"
					"        ProbeInterval: -1s\n"
					"        MaxProbesPerSecond: 0\n"
					"        TimeoutIdle: 0\n"
					"        TimeoutBooting: -5m\n"
					"        TimeoutProbe: 0s\n"
					"        TimeoutShutdown: 0s\n"
					"        TimeoutTERM: 0s\n"
					"        TimeoutSignal: 0s\n"
					"        TimeoutStaleRunLock: 0s\n"
					"        MaxCloudOpsPerSecond: -3\n"
					"        MaxConcurrentInstanceCreateOps: -1\n"
					"        MaxInstances: 0\n"
					"        MaxRunningContainersPerInstance: -2\n"
					"        InitialQuotaEstimate: -9\n"
					"        SupervisorFraction: -0.1\n";
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(yaml, &d);
	const struct cfg_cloudvms *v;

	(void)state;
	if (!c)
		dump_diags(&d);
	assert_non_null(c);
	v = &c->containers.cloudvms;
	assert_true(c->containers.maximum_price_factor == 1);
	assert_string_equal(v->ssh_port, "ssh");
	assert_string_equal(v->boot_probe_command, "true");
	assert_true(v->poll_interval == 0); /* no fallback: back-to-back polling (spec 2.7) */
	assert_true(v->sync_interval == 60 * SEC);
	assert_true(v->probe_interval == 10 * SEC);
	assert_true(v->max_probes_per_second == 10);
	assert_true(v->timeout_idle == 60 * SEC);
	assert_true(v->timeout_booting == 600 * SEC);
	assert_true(v->timeout_probe == 600 * SEC);
	assert_true(v->timeout_shutdown == 10 * SEC);
	assert_true(v->timeout_term == 120 * SEC);
	assert_true(v->timeout_signal == 5 * SEC);
	assert_true(v->timeout_stale_run_lock == 5 * SEC);
	assert_true(v->max_cloud_ops_per_second == 0);
	assert_int_equal(v->max_concurrent_instance_create_ops, 0);
	assert_int_equal(v->max_instances, 0);
	assert_int_equal(v->max_running_containers_per_instance, 0);
	assert_int_equal(v->initial_quota_estimate, 0);
	assert_true(v->supervisor_fraction == 0);
	cfg_free(c);
	cfg_diags_free(&d);
}

/* A null in the file does not override the default. */
static void
test_null_keeps_default(void **state)
{
	static const char yaml[] = HEAD "    Containers:\n      RuntimeEngine:\n"
					"      CloudVMs:\n        TimeoutIdle: ~\n";
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(yaml, &d);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->containers.runtime_engine, "docker");
	assert_true(c->containers.cloudvms.timeout_idle == 60 * SEC);
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_worker_json_has_no_secrets(void **state)
{
	static const char yaml[] = "Clusters:\n"
				   "  abcde:\n"
				   "    ManagementToken: MgmtTokenMgmtTokenMgmtTokenMgmtToken42\n"
				   "    SystemRootToken: RootTokenRootTokenRootTokenRootToken42\n"
				   "    PostgreSQL:\n"
				   "      ConnectionPool: 8\n"
				   "      Connection:\n"
				   "        host: db.internal\n"
				   "        password: PgPassw0rdSecret\n"
				   "    Collections:\n"
				   "      BlobSigningTTL: 336h\n"
				   "    Services:\n"
				   "      Controller:\n"
				   "        ExternalURL: https://abcde.example.com\n"
				   "    Containers:\n"
				   "      DispatchPrivateKey: |\n"
				   "        -----BEGIN OPENSSH PRIVATE KEY-----\n"
				   "        SshKeyMaterialSshKeyMaterial\n"
				   "        -----END OPENSSH PRIVATE KEY-----\n"
				   "      CloudVMs:\n"
				   "        Driver: ec2\n"
				   "        DriverParameters:\n"
				   "          AccessKeyID: AKIDSECRETVALUE\n"
				   "          SecretAccessKey: SecretAccessKeyValue\n";
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(yaml, &d);
	const char *w;

	(void)state;
	assert_non_null(c);
	w = c->worker_cluster_json;
	assert_non_null(w);
	assert_null(strstr(w, "MgmtToken"));
	assert_null(strstr(w, "ManagementToken"));
	assert_null(strstr(w, "PgPassw0rdSecret"));
	assert_null(strstr(w, "db.internal"));
	assert_null(strstr(w, "\"Connection\""));
	assert_null(strstr(w, "SshKeyMaterial"));
	assert_null(strstr(w, "DispatchPrivateKey"));
	assert_null(strstr(w, "AKIDSECRETVALUE"));
	assert_null(strstr(w, "SecretAccessKeyValue"));
	assert_null(strstr(w, "DriverParameters"));
	/* What workers do need is there: other services' keys, pool size, the root token. */
	assert_non_null(strstr(w, "\"BlobSigningTTL\":\"336h\""));
	assert_non_null(strstr(w, "\"ConnectionPool\":8"));
	assert_non_null(strstr(w, "RootTokenRootToken"));
	/* The secrets are where the children will get them. */
	assert_non_null(strstr(c->secrets.driver_parameters_json, "SecretAccessKeyValue"));
	assert_non_null(strstr(c->secrets.dispatch_private_key, "SshKeyMaterial"));
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_driver_parameters_faithful(void **state)
{
	static const char yaml[] = HEAD "    Containers:\n"
					"      CloudVMs:\n"
					"        DriverParameters:\n"
					"          Count: 3\n"
					"          Big: 12345678901234567\n"
					"          Quoted: \"3\"\n"
					"          Ratio: 0.25\n"
					"          Flag: true\n"
					"          Off: false\n"
					"          Nothing: null\n"
					"          Duration: 20s\n"
					"          List: [a, 1, \"b\"]\n"
					"          Nested:\n"
					"            Deeper: {x: -7}\n";
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(yaml, &d);

	(void)state;
	assert_non_null(c);
	assert_string_equal(
		c->secrets.driver_parameters_json,
		"{\"Count\":3,\"Big\":12345678901234567,\"Quoted\":\"3\",\"Ratio\":0.25,"
		"\"Flag\":true,\"Off\":false,\"Nothing\":null,\"Duration\":\"20s\","
		"\"List\":[\"a\",1,\"b\"],\"Nested\":{\"Deeper\":{\"x\":-7}}}");
	assert_int_equal(c->secrets.driver_parameters_len,
			 strlen(c->secrets.driver_parameters_json));
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_private_key_forms(void **state)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c;

	(void)state;
	c = load_str(HEAD "    Containers:\n      DispatchPrivateKey: file:///etc/arvados/key\n",
		     &d);
	assert_non_null(c);
	assert_null(c->secrets.dispatch_private_key);
	assert_string_equal(c->secrets.dispatch_private_key_path, "/etc/arvados/key");
	cfg_free(c);
	cfg_diags_free(&d);

	c = load_str(HEAD "    Containers:\n      DispatchPrivateKey: \"\"\n", &d);
	assert_non_null(c);
	assert_null(c->secrets.dispatch_private_key);
	assert_null(c->secrets.dispatch_private_key_path);
	cfg_free(c);
	cfg_diags_free(&d);

	c = load_str(HEAD "    Containers:\n      DispatchPrivateKey: |\n"
			  "        -----BEGIN RSA PRIVATE KEY-----\n        QUJD\n"
			  "        -----END RSA PRIVATE KEY-----\n",
		     &d);
	assert_non_null(c);
	assert_string_equal(
		c->secrets.dispatch_private_key,
		"-----BEGIN RSA PRIVATE KEY-----\nQUJD\n-----END RSA PRIVATE KEY-----\n");
	assert_int_equal(c->secrets.dispatch_private_key_len,
			 strlen(c->secrets.dispatch_private_key));
	cfg_secrets_wipe(&c->secrets);
	assert_null(c->secrets.dispatch_private_key);
	assert_int_equal(c->secrets.dispatch_private_key_len, 0);
	assert_null(c->secrets.driver_parameters_json);
	cfg_secrets_wipe(&c->secrets); /* idempotent */
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_instance_types(void **state)
{
	static const char yaml[] = HEAD "    Containers:\n"
					"      PreemptiblePriceFactor: 0.5\n"
					"    InstanceTypes:\n"
					"      zeta:\n"
					"        VCPUs: 2\n"
					"        RAM: 4GiB\n"
					"        IncludedScratch: 10GB\n"
					"        AddedScratch: 5GB\n"
					"        Scratch: 1GB\n"
					"        Price: 0.2\n"
					"      alpha:\n"
					"        ProviderType: a1.big\n"
					"        VCPUs: 8\n"
					"        RAM: 16GiB\n"
					"        Price: 1.0\n"
					"        GPU:\n"
					"          Stack: rocm\n"
					"          DriverVersion: \"6.1\"\n"
					"          HardwareTarget: gfx1100\n"
					"          DeviceCount: 2\n"
					"          VRAM: 24GiB\n"
					"      alpha.preemptible:\n"
					"        ProviderType: a1.big\n"
					"        VCPUs: 8\n"
					"        RAM: 16GiB\n"
					"        Price: 0.3\n"
					"        Preemptible: true\n";
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(yaml, &d);
	const struct cfg_instance_type *t;

	(void)state;
	if (!c)
		dump_diags(&d);
	assert_non_null(c);
	/* alpha, alpha.preemptible (configured, kept), zeta, zeta.preemptible: sorted. */
	assert_int_equal(c->n_instance_types, 4);
	assert_string_equal(c->instance_types[0].name, "alpha");
	assert_string_equal(c->instance_types[1].name, "alpha.preemptible");
	assert_string_equal(c->instance_types[2].name, "zeta");
	assert_string_equal(c->instance_types[3].name, "zeta.preemptible");
	t = cfg_instance_type(c, "zeta");
	assert_string_equal(t->provider_type, "zeta");
	assert_int_equal(t->scratch, 15000000000LL);
	assert_false(t->preemptible);
	t = cfg_instance_type(c, "zeta.preemptible");
	assert_true(t->preemptible);
	assert_true(fabs(t->price - 0.1) < 1e-12);
	assert_string_equal(t->provider_type, "zeta");
	assert_int_equal(t->scratch, 15000000000LL);
	t = cfg_instance_type(c, "alpha");
	assert_int_equal(t->gpu.stack, CFG_GPU_ROCM);
	assert_string_equal(t->gpu.hardware_target, "gfx1100");
	assert_int_equal(t->gpu.vram, 24LL << 30);
	/* The configured alpha.preemptible differs from the automatic one: kept, warned. */
	t = cfg_instance_type(c, "alpha.preemptible");
	assert_true(t->price == 0.3);
	assert_int_equal(t->gpu.stack, CFG_GPU_NONE);
	assert_int_equal(count_diag(&d, false, NULL, "alpha.preemptible already exists"), 1);
	assert_int_equal(
		count_diag(&d, false, "Clusters.abcde.InstanceTypes.zeta.Scratch", "ignored"), 1);
	assert_null(cfg_instance_type(c, "nope"));
	assert_non_null(strstr(c->worker_cluster_json, "\"zeta.preemptible\":{"));
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_loopback_synthesised(void **state)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(HEAD "    Containers:\n      CloudVMs:\n"
					      "        Enable: true\n        Driver: loopback\n",
					 &d);
	const struct cfg_instance_type *t;

	(void)state;
	assert_non_null(c);
	assert_int_equal(c->n_instance_types, 1);
	t = cfg_instance_type(c, "localhost");
	assert_non_null(t);
	assert_int_equal(t->vcpus, sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(t->ram > 0);
	assert_true(t->included_scratch > 0);
	assert_int_equal(t->scratch, t->included_scratch);
	assert_true(t->price == 1.0);
	assert_string_equal(t->provider_type, "localhost");
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_unknown_keys(void **state)
{
	static const char yaml[] = HEAD "    Collections:\n      WhateverOtherServicesUse: 1\n"
					"    Containers:\n"
					"      SLURM: {}\n"
					"      CloudVMs:\n"
					"        Bogus: 1\n"
					"        timeoutidle: 5m\n"
					"    InstanceTypes:\n"
					"      t1:\n"
					"        VCPUs: 1\n"
					"        Vcpus: 4\n"
					"        GPU:\n"
					"          Cores: 3\n";
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(yaml, &d);

	(void)state;
	assert_non_null(c);
	assert_int_equal(count_diag(&d, false, "Clusters.abcde.Containers.CloudVMs.Bogus",
				    "deprecated or unknown config entry: "
				    "Clusters.abcde.Containers.CloudVMs.Bogus"),
			 1);
	assert_int_equal(count_diag(&d, false, "Clusters.abcde.Containers.CloudVMs.timeoutidle",
				    "Clusters.abcde.Containers.CloudVMs.timeoutidle (perhaps you "
				    "meant TimeoutIdle?)"),
			 1);
	assert_int_equal(count_diag(&d, false, "Clusters.abcde.InstanceTypes.t1.Vcpus",
				    "(perhaps you meant VCPUs?)"),
			 1);
	assert_int_equal(count_diag(&d, false, "Clusters.abcde.InstanceTypes.t1.GPU.Cores",
				    "deprecated or unknown"),
			 1);
	assert_int_equal(count_diag(&d, false, NULL, "WhateverOtherServicesUse"), 0);
	assert_int_equal(count_diag(&d, false, NULL, "SLURM"), 0);
	/* Mis-cased keys are dropped: the defaults stand, and workers do not see them. */
	assert_true(c->containers.cloudvms.timeout_idle == 60 * SEC);
	assert_int_equal(cfg_instance_type(c, "t1")->vcpus, 1);
	assert_null(strstr(c->worker_cluster_json, "timeoutidle"));
	/* Positions: Bogus is on line 11, column 9. */
	for (size_t i = 0; i < d.n; i++)
		if (!strcmp(d.v[i].key_path, "Clusters.abcde.Containers.CloudVMs.Bogus")) {
			assert_int_equal(d.v[i].line, 11);
			assert_int_equal(d.v[i].column, 9);
		}
	cfg_free(c);
	cfg_diags_free(&d);
}

/* PostgreSQL.Connection (issue 15): libpq keywords in file order, scalars as text, the
 * password kept for dispatcherd and out of the workers' copy; a non-scalar is an error that
 * names the key and never quotes the value. */
static void
test_postgres_connection(void **state)
{
	(void)state;
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(HEAD "    PostgreSQL:\n"
					      "      Connection:\n"
					      "        host: db.example\n"
					      "        port: 5432\n"
					      "        user: arvados\n"
					      "        password: s3cr3t-pg-pw\n"
					      "        dbname: arvados_production\n"
					      "        sslmode: require\n"
					      "        options:\n",
					 &d);

	dump_diags(&d);
	assert_non_null(c);
	assert_int_equal(c->postgres.n, 7);
	assert_string_equal(c->postgres.keys[1], "port");
	assert_string_equal(cfg_postgres_get(&c->postgres, "port"), "5432");
	assert_string_equal(cfg_postgres_get(&c->postgres, "password"), "s3cr3t-pg-pw");
	assert_string_equal(cfg_postgres_get(&c->postgres, "options"), "");
	assert_null(cfg_postgres_get(&c->postgres, "hostaddr"));
	assert_null(strstr(c->worker_cluster_json, "s3cr3t-pg-pw"));
	cfg_free(c);
	cfg_diags_free(&d);

	memset(&d, 0, sizeof(d));
	c = load_str(HEAD "    PostgreSQL:\n      Connection:\n        password: [s3cr3t-pg-pw]\n",
		     &d);
	assert_null(c);
	assert_int_equal(count_diag(&d, true, "Clusters.abcde.PostgreSQL.Connection.password",
				    "expected a string"),
			 1);
	for (size_t i = 0; i < d.n; i++)
		assert_null(strstr(d.v[i].message, "s3cr3t"));
	cfg_diags_free(&d);

	memset(&d, 0, sizeof(d));
	c = load_str(HEAD "    PostgreSQL:\n      Connection: [host, port]\n", &d);
	assert_null(c);
	assert_int_equal(
		count_diag(&d, true, "Clusters.abcde.PostgreSQL.Connection", "expected a mapping"),
		1);
	cfg_diags_free(&d);

	memset(&d, 0, sizeof(d));
	c = load_str(HEAD, &d); /* none configured */
	assert_non_null(c);
	assert_int_equal(c->postgres.n, 0);
	cfg_free(c);
	cfg_diags_free(&d);
}

static void
test_diag_format(void **state)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = load_str(HEAD "    Containers:\n      CloudVMs:\n"
					      "        TimeoutIdle: 10x\n",
					 &d);
	char *s = NULL;

	(void)state;
	assert_null(c);
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].is_error)
			s = cfg_diag_format(&d.v[i]);
	assert_non_null(s);
	assert_string_equal(s,
			    "test.yml:8:22: error: Clusters.abcde.Containers.CloudVMs.TimeoutIdle: "
			    "invalid duration \"10x\" (use e.g. 30s, 5m, 1h30m)");
	free(s);
	cfg_diags_free(&d);
}

static void
test_env_and_missing_file(void **state)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c;

	(void)state;
	setenv("ARVADOS_CONFIG", EX("seed001-azure-vhd.yml"), 1);
	c = cfg_load(NULL, &d);
	assert_non_null(c);
	assert_string_equal(c->source_path, EX("seed001-azure-vhd.yml"));
	assert_string_equal(c->containers.cloudvms.driver, "azure");
	cfg_free(c);
	cfg_diags_free(&d);
	unsetenv("ARVADOS_CONFIG");

	c = cfg_load(CFG_TEST_DIR "/no/such/file.yml", &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.v[0].message, "No such file"));
	cfg_diags_free(&d);
}

/* Inputs that once hung libfyaml (invalid UTF-8 after "%"): now a prompt error each. */
static void
test_fuzz_regressions(void **state)
{
	DIR *dir = opendir(CFG_TEST_DIR "/fuzz-regressions");
	struct dirent *de;
	char path[1024];
	int n = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		struct cfg_diags d = { 0 };
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/fuzz-regressions/%s", CFG_TEST_DIR, de->d_name);
		assert_null(cfg_load(path, &d));
		assert_int_equal(d.nerrors, 1);
		assert_string_equal(d.v[0].message, "YAML: invalid UTF-8");
		cfg_diags_free(&d);
		n++;
	}
	closedir(dir);
	assert_true(n >= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_postgres_connection),
		cmocka_unit_test(test_seed000_warnings),
		cmocka_unit_test(test_seed000_vs_seed001),
		cmocka_unit_test(test_seed001_gpu),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_null_keeps_default),
		cmocka_unit_test(test_worker_json_has_no_secrets),
		cmocka_unit_test(test_driver_parameters_faithful),
		cmocka_unit_test(test_private_key_forms),
		cmocka_unit_test(test_instance_types),
		cmocka_unit_test(test_loopback_synthesised),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_env_and_missing_file),
		cmocka_unit_test(test_fuzz_regressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
