/*
 * config.h - the Arvados cluster config, as the dispatcher reads it.
 *
 * cfg_load() parses the whole Arvados config file (libfyaml), applies the reference defaults
 * and fallbacks of spec/dispatcher.md section 1.3, maps the older layout (CloudVMs,
 * Dispatch.PrivateKey, NodeProfiles, CUDA) to the new keys with one warning per old key,
 * and reports every problem with its key path and file:line:column.
 *
 * Secrets live in struct cfg_secrets, apart from the rest, so that dispatcherd can hand
 * them to its children and wipe them (cfg_secrets_wipe) without touching anything else.
 */
#ifndef ADC_CONFIG_H
#define ADC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_DEFAULT_PATH "/etc/arvados/config.yml"

/* Durations are kept in nanoseconds, as Go's time.Duration. */
typedef int64_t cfg_duration_ns;

enum cfg_gpu_stack { CFG_GPU_NONE = 0, CFG_GPU_CUDA, CFG_GPU_ROCM };

struct cfg_gpu {
	enum cfg_gpu_stack stack;
	char *driver_version;  /* "X.Y", "" when unset */
	char *hardware_target; /* CUDA "X.Y" or ROCm "gfxNNNN", "" when unset */
	int64_t device_count;
	int64_t vram; /* bytes per device */
};

struct cfg_instance_type {
	char *name;	     /* the map key */
	char *provider_type; /* defaults to name */
	int64_t vcpus;
	int64_t ram; /* bytes */
	int64_t included_scratch;
	int64_t added_scratch;
	int64_t scratch; /* included + added; a literal Scratch key is ignored */
	double price;
	bool preemptible;
	struct cfg_gpu gpu;
};

/* One diagnostic: a warning or an error, with where it came from. */
struct cfg_diag {
	bool is_error;
	char *key_path;	  /* dotted, e.g. "Clusters.zzzzz.Containers.CloudVMs.TimeoutIdle" */
	char *file;	  /* config file path, or NULL when not tied to a place */
	int line, column; /* 1-based; 0 when unknown */
	char *message;	  /* what is wrong, and for old keys the new key to use */
};

struct cfg_diags {
	struct cfg_diag *v;
	size_t n, cap;
	size_t nerrors;
};

/* What only cloudd and sshd-pool may hold. dispatcherd wipes it once its children have it. */
struct cfg_secrets {
	char *driver_parameters_json; /* Containers.CloudVMs.DriverParameters as compact JSON */
	size_t driver_parameters_len;
	char *dispatch_private_key; /* inline PEM/OpenSSH text; NULL when given as file:// */
	size_t dispatch_private_key_len;
	char *dispatch_private_key_path; /* absolute path when given as file:///path, else NULL */
};

struct cfg_cloudvms {
	char *driver; /* ec2, azure, loopback */
	char *image_id;
	char *instance_init_command;
	char *ssh_port; /* "22" by default; "ssh" when configured empty */
	cfg_duration_ns poll_interval, sync_interval, probe_interval;
	double max_probes_per_second;
	char *boot_probe_command; /* "true" when configured empty */
	cfg_duration_ns timeout_idle, timeout_booting, timeout_probe, timeout_shutdown;
	cfg_duration_ns timeout_term, timeout_signal, timeout_stale_run_lock;
	double max_cloud_ops_per_second;	     /* 0 = unlimited */
	int64_t max_concurrent_instance_create_ops;  /* 0 = unlimited */
	int64_t max_instances;			     /* 0 = unlimited */
	int64_t max_running_containers_per_instance; /* 0 = unlimited */
	int64_t initial_quota_estimate;
	double supervisor_fraction;
	char *deploy_runner_binary; /* "" = do not deploy */
	char *deploy_runner_directory;
	bool deploy_public_key;
	char **resource_tag_keys, **resource_tag_values;
	size_t n_resource_tags;
	char *tag_key_prefix;
	bool enable;
};

struct cfg_containers {
	char *crunch_run_command;
	char **crunch_run_arguments;
	size_t n_crunch_run_arguments;
	char *runtime_engine;
	int64_t reserve_extra_ram;
	int64_t local_keep_blob_buffers_per_vcpu;
	double maximum_price_factor;
	cfg_duration_ns stale_lock_timeout;
	double preemptible_price_factor;
	int64_t max_dispatch_attempts;
	char *local_keep_logs_to_container_log;
	struct cfg_cloudvms cloudvms;
};

/* Where a key's value is in the file, for checks made after loading; a key absent from the
 * file (its default applies) has the place of the Clusters.<id> key. */
struct cfg_place {
	int line, column; /* 1-based; 0 when unknown */
};

/* The keys checked after loading (`config-check`, dispatcherd/config_check.c). */
enum cfg_placed_key {
	CFG_AT_DRIVER = 0,	   /* Containers.CloudVMs.Driver */
	CFG_AT_DRIVER_PARAMETERS,  /* Containers.CloudVMs.DriverParameters */
	CFG_AT_DISPATCH_KEY,	   /* Containers.DispatchPrivateKey */
	CFG_AT_DEPLOY_RUNNER,	   /* Containers.CloudVMs.DeployRunnerBinary */
	CFG_AT_DEPLOY_DIRECTORY,   /* Containers.CloudVMs.DeployRunnerDirectory */
	CFG_AT_CRUNCH_RUN_COMMAND, /* Containers.CrunchRunCommand */
	CFG_AT_RUNTIME_ENGINE,	   /* Containers.RuntimeEngine */
	CFG_AT_CRUNCH_RUN_ARGS,	   /* Containers.CrunchRunArgumentsList */
	CFG_AT_N
};

/* One InternalURLs entry of Services.DispatchCloud. */
struct cfg_internal_url {
	char *url;
	char *listen_url; /* "" when unset */
};

/* PostgreSQL.Connection as libpq keywords and values, in file order (common/config_postgres.c).
 * n == 0: no connection configured. The password stays with dispatcherd (it reconnects). */
struct cfg_postgres {
	char **keys, **values;
	size_t n;
};

/* The value of one keyword, or NULL. */
const char *cfg_postgres_get(const struct cfg_postgres *p, const char *key);
void cfg_postgres_free(struct cfg_postgres *p);

struct cfg_cluster {
	char *cluster_id;  /* ^[a-z0-9]{5}$ */
	char *source_path; /* the file it came from */
	char *system_root_token;
	char *management_token;
	char *controller_external_url;
	struct cfg_internal_url *dispatch_internal_urls;
	size_t n_dispatch_internal_urls;
	bool tls_insecure;
	char *tls_certificate, *tls_key;
	int64_t api_max_concurrent_requests;
	int64_t api_max_queued_requests;
	cfg_duration_ns api_request_timeout;
	char *log_format; /* json, text */
	char *log_level;  /* trace, debug, info, warn, error */
	struct cfg_containers containers;
	struct cfg_instance_type *instance_types; /* sorted by name */
	size_t n_instance_types;
	struct cfg_secrets secrets;
	struct cfg_postgres postgres;
	/* The merged cluster config (defaults + file) as JSON, minus what workers must not hold
	 * (driver credentials, DispatchPrivateKey, ManagementToken, PostgreSQL connection): the
	 * crunch-run stdin payload's Cluster (spec 5.9, design "What workers receive"). */
	char *worker_cluster_json;
	struct cfg_place at[CFG_AT_N]; /* enum cfg_placed_key */
};

/*
 * Load the cluster config from path (NULL: $ARVADOS_CONFIG, else CFG_DEFAULT_PATH).
 * Returns the cluster, or NULL when diags->nerrors > 0 (or on out-of-memory, with an error
 * diag). Warnings are added to diags either way. The caller frees both.
 */
struct cfg_cluster *cfg_load(const char *path, struct cfg_diags *diags);

/* The same, from a buffer already in memory; name is used in diagnostics (fuzzing, tests). */
struct cfg_cluster *
cfg_load_buffer(const char *buf, size_t len, const char *name, struct cfg_diags *diags);

void cfg_free(struct cfg_cluster *c);
void cfg_diags_free(struct cfg_diags *d);

/* "file:line:column: error: Clusters.x.y: message" (or "warning:"); caller frees. */
char *cfg_diag_format(const struct cfg_diag *d);

/* The cluster-relative path of a placed key ("Containers.CloudVMs.Driver"). */
const char *cfg_placed_key_path(enum cfg_placed_key k);

/* An error about placed key k of c, with its key path and file:line:column, as the loader's
 * own diagnostics. 0, or -ENOMEM when it cannot be recorded. */
int cfg_diag_error_at(struct cfg_diags *d, const struct cfg_cluster *c, enum cfg_placed_key k,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Zero and free every secret; idempotent. */
void cfg_secrets_wipe(struct cfg_secrets *s);

/* Parsers for the Arvados value syntaxes; 0 on success, -EINVAL on a bad value, -ERANGE on
 * overflow. */
int cfg_parse_duration(const char *s, cfg_duration_ns *out);
int cfg_parse_bytesize(const char *s, int64_t *out);

/* Look up an instance type by name; NULL if none. */
const struct cfg_instance_type *cfg_instance_type(const struct cfg_cluster *c, const char *name);

#endif
