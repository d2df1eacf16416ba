/*
 * boot_services.c - the boot steps that build dispatcherd's own pieces (spec 1.6 adapted to
 * three processes): identity, listener, metrics, API client, runner binary, then the pool,
 * the queue and the scheduler loop, and last the management server.
 */
#include "dispatcher_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build_id.h"
#include "config_digest.h"
#include "file_md5.h"
#include "identity.h"
#include "log.h"
#include "metrics_catalog.h"
#include "util.h"

#define LOG_NO_FIELDS ((const struct log_field[]){ LF_END })

/* The driver is one we know, and InstanceSetID comes from the token (5.5). */
int
boot_identity(struct dispatcher *d)
{
	static const char *const known[] = { "ec2", "azure", "loopback" };
	const char *driver = d->cfg->containers.cloudvms.driver;
	const char *token = d->cfg->system_root_token ? d->cfg->system_root_token : "";
	char why[256];
	size_t i = 0;
	int r;

	while (driver != NULL && i < sizeof(known) / sizeof(*known) && strcmp(driver, known[i]))
		i++;
	if (driver == NULL || i == sizeof(known) / sizeof(*known)) {
		log_kv_err(LOG_LVL_FATAL, "error initializing driver", "unsupported cloud driver",
			   LF_STR("Driver", driver));
		return -1;
	}
	if (pool_deadman_check(&d->cfg->containers.cloudvms, d->opts->deadman_timeout_ns, why,
			       sizeof(why)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "invalid -deadman-timeout", why, LOG_NO_FIELDS);
		return -1;
	}
	r = identity_instance_set_id(token, d->instance_set_id, sizeof(d->instance_set_id));
	if (r != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot derive the InstanceSetID from SystemRootToken",
			     strerror(-r), LOG_NO_FIELDS);
		return -1;
	}
	return 0;
}

/* The listen address chosen and bound: a bad address fails before anything is started. */
int
boot_listen(struct dispatcher *d)
{
	char err[512];
	const char *env = getenv("ARVADOS_SERVICE_INTERNAL_URL");

	if (http_listen_open(d->cfg->dispatch_internal_urls, d->cfg->n_dispatch_internal_urls, env,
			     &d->listen, err, sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot listen", err, LOG_NO_FIELDS);
		return -1;
	}
	return 0;
}

/* The section 8 catalogue, process metrics and the config's digest. */
int
boot_metrics(struct dispatcher *d)
{
	const struct cfg_cluster *c = d->cfg;

	if ((d->metrics = metrics_new()) == NULL ||
	    (d->itype_names = calloc(c->n_instance_types + 1, sizeof(char *))) == NULL)
		goto nomem;
	for (size_t i = 0; i < c->n_instance_types; i++)
		d->itype_names[i] = c->instance_types[i].name;
	struct metrics_catalog_init in = {
		.version = ADC_VERSION,
		.instance_types = d->itype_names,
		.n_instance_types = c->n_instance_types,
		.max_concurrent_requests = c->api_max_concurrent_requests,
		.max_queued_requests = c->api_max_queued_requests,
		.ec2 = strcmp(c->containers.cloudvms.driver, "ec2") == 0,
		.process = true,
		.budget = d->opts->max_hourly_spend_dollars > 0,
		.spot_notices = dispatcher_spot_notices(d),
		.spot_azure = strcmp(c->containers.cloudvms.driver, "azure") == 0,
	};
	const char *path = d->opts->config_path ? d->opts->config_path : getenv("ARVADOS_CONFIG");
	char sha[65];
	struct timespec now;

	if (config_digest(path ? path : "/etc/arvados/config.yml", sha, &in.config_source_time) ==
	    0) {
		clock_gettime(CLOCK_REALTIME, &now);
		in.config_sha256 = sha;
		in.config_load_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	}
	if (metrics_catalog_register(d->metrics, &in) == 0)
		return 0;
nomem:
	log_emit_err(LOG_LVL_FATAL, "cannot build the metrics registry", strerror(ENOMEM),
		     LOG_NO_FIELDS);
	return -1;
}

int
boot_api(struct dispatcher *d)
{
	struct api_client_opts o;
	char *err = NULL;

	api_client_opts_from_cfg(d->cfg, &o);
	if (api_client_new(&d->loop, &o, &d->api, &err) != 0) {
		log_emit_err(LOG_LVL_FATAL, "unhealthy service",
			     err ? err : "cannot build API client", LOG_NO_FIELDS);
		free(err);
		return -1;
	}
	return 0;
}

/* DeployRunnerBinary: resolved, opened, hashed; sshd-pool's init carries the md5. */
int
boot_runner(struct dispatcher *d)
{
	const struct cfg_cloudvms *vm = &d->cfg->containers.cloudvms;
	char err[512];
	int r = 0;

	if (pool_runner_resolve(vm->deploy_runner_binary, NULL, &d->runner_path, err,
				sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "error loading runner binary", err, LOG_NO_FIELDS);
		return -1;
	}
	if (d->runner_path[0] == '\0')
		return 0;
	d->pssh.runner_fd = open(d->runner_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (d->pssh.runner_fd < 0 || (r = file_md5_hex(d->pssh.runner_fd, d->pssh.runner_md5))) {
		log_kv_err(LOG_LVL_FATAL, "error loading runner binary",
			   strerror(d->pssh.runner_fd < 0 ? errno : -r),
			   LF_STR("DeployRunnerBinary", d->runner_path));
		return -1;
	}
	return 0;
}

/* The cluster's dispatch lock (PostgreSQL advisory lock 10005, docs/STANDBY.md): the gate is
 * closed until it is held; without a PostgreSQL section, open, with one warning. */
int
boot_standby(struct dispatcher *d)
{
	return standby_init(&d->standby, &d->loop, d->cfg, d->metrics) != 0 ? -1 : 0;
}

int
boot_standby_start(struct dispatcher *d)
{
	standby_start(d->standby);
	return 0;
}

bool
dispatcher_spot_notices(const struct dispatcher *d)
{
	const char *drv = d->cfg->containers.cloudvms.driver;

	/* EC2's instance-action notice or Azure's Scheduled Events: the driver's name is the
	 * spot check's kind in sshd-pool's init (proto_ssh_valid_imds_kind). */
	return d->opts->spot_notices && (strcmp(drv, "ec2") == 0 || strcmp(drv, "azure") == 0);
}

/* Pool (first sync at once), queue (first poll retried until success, 2.7), scheduler loop;
 * their wake-ups are wakeups.c's. */
int
boot_services(struct dispatcher *d)
{
	const struct cfg_cloudvms *vm = &d->cfg->containers.cloudvms;
	struct pool_opts po = {
		.loop = &d->loop,
		.cluster = d->cfg,
		.metrics = d->metrics,
		.on_change = wake_pool_changed,
		.on_change_ctx = d,
		.runner_md5 = d->pssh.runner_md5,
		.deadman_timeout_ns = d->opts->deadman_timeout_ns,
		.spot_notices = dispatcher_spot_notices(d),
	};
	struct queue_opts qo = { .loop = &d->loop,
				 .api = d->api,
				 .cluster = d->cfg,
				 .on_change = wake_queue_changed,
				 .on_change_ctx = d,
				 .on_poll = wake_queue_polled,
				 .on_poll_ctx = d,
				 .select_lock_count = d->opts->spot_fallback_attempts > 0 };
	int r;

	if (d->opts->spot_notices && !po.spot_notices)
		log_kv(LOG_LVL_WARN,
		       "-spot-interruption-notices ignored: only the ec2 and azure drivers have "
		       "a notice",
		       LF_STR("Driver", vm->driver));
	d->pcloud = (struct port_cloud){ .cloudd = &d->cloudd,
					 .cluster = d->cfg,
					 .public_key = &d->public_key,
					 .timeout_ms = 120000,
					 .metrics = d->metrics };
	port_cloud_init(&d->pcloud, &po.cloud);
	d->pssh.sshpool = &d->sshpool;
	d->pssh.port = (uint16_t)(atoi(vm->ssh_port) > 0 ? atoi(vm->ssh_port) : 22);
	port_ssh_init(&d->pssh, &po.ssh);
	if ((r = itypes_table_new(d->cfg, &d->itypes)) == 0 && (r = pool_new(&po, &d->pool)) == 0) {
		itypes_table_set_spot_fallback(d->itypes, d->opts->spot_fallback_factor);
		qo.itypes = d->itypes;
		r = queue_new(&qo, &d->queue);
	}
	if (r == 0) {
		struct sched_driver_opts so = {
			.loop = &d->loop,
			.cluster = d->cfg,
			.queue = d->queue,
			.pool = d->pool,
			.api = d->api,
			.metrics = d->metrics,
			.max_hourly_spend = d->opts->max_hourly_spend_dollars,
			.spot_fallback_after_attempts = d->opts->spot_fallback_attempts
		};
		if ((r = sched_driver_new(&so, &d->sched)) == 0)
			r = queue_start(d->queue);
	}
	if (r == 0)
		standby_attach(d->standby, d->pool, d->sched);
	if (r != 0)
		log_emit_err(LOG_LVL_FATAL, "cannot start the dispatcher", strerror(-r),
			     LOG_NO_FIELDS);
	return r != 0 ? -1 : 0;
}

/* The management server on the socket boot_listen bound; "listening" logged. */
int
boot_serve(struct dispatcher *d)
{
	char *cert = d->tls_cert, *key = d->tls_key; /* boot_tls read them */
	int r;

	d->tls_cert = d->tls_key = NULL;
	struct http_server_opts o = {
		.loop = &d->loop,
		.listen_fd = d->listen.fd,
		.management_token = d->cfg->management_token,
		.tls_cert_pem = cert,
		.tls_key_pem = key,
		.metrics = d->metrics,
	};
	r = http_server_start(&o, &d->http);
	d->listen.fd = -1; /* the server owns it now, even on failure */
	free(cert);
	adc_free_secret_str(key);
	d->mgmt = (struct mgmt_wiring){
		.cluster = d->cfg, .queue = d->queue, .pool = d->pool, .sched = d->sched
	};
	mgmt_wiring_init(&d->mgmt);
	if (r != 0 || (r = mgmt_api_register(d->http, &d->mgmt.providers)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot start the management server", strerror(-r),
			     LOG_NO_FIELDS);
		return -1;
	}
	log_kv(LOG_LVL_INFO, "listening", LF_STR("URL", d->listen.internal_url),
	       LF_STR("Listen", d->listen.listen_url), LF_STR("Service", "arvados-dispatch-cloud"),
	       LF_STR("Version", ADC_VERSION));
	notify_listening(&d->notify);
	return 0;
}
