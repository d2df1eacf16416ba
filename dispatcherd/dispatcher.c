/* dispatcher.c - see dispatcher.h. */
#include "dispatcher.h"
#include "config_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "api_client.h"
#include "build_id.h"
#include "child.h"
#include "cloudc.h"
#include "http_listen.h"
#include "http_server.h"
#include "instance_types.h"
#include "metrics_catalog.h"
#include "mgmt_wiring.h"
#include "notify.h"
#include "pool.h"
#include "port_cloud.h"
#include "port_ssh.h"
#include "queue.h"
#include "sched_driver.h"
#include "sshc.h"
#include "standby.h"
#include "env_secrets.h"
#include "heap_scrub.h"
#include "helper_paths.h"
#include "identity.h"
#include "log.h"
#include "proto.h"
#include "secret_fd.h"
#include "util.h"

#define DISPATCHER_STOP_GRACE_MS 1500
#define DISPATCHER_HARD_STOP_MS	 1900

struct dispatcher {
	uv_loop_t loop;
	struct cfg_cluster *cfg;
	const struct cli_opts *opts;
	char instance_set_id[64];
	char *public_key; /* the dispatch key's public half, from sshd-pool */
	struct child *cloudd, *sshpool;
	char cloudd_path[PATH_MAX], sshpool_path[PATH_MAX];
	const char *cloudd_args[16], *sshpool_args[16];
	uv_signal_t sigterm, sigint;
	uv_timer_t hard_stop;
	int children_running;
	size_t listed; /* instances seen by the start-up list */
	bool listing;
	bool notified_ready;
	int exit_code;

	struct http_listen listen;
	struct metrics_registry *metrics;
	struct api_client *api;
	struct itypes_table *itypes;
	char *runner_path;
	struct port_cloud pcloud;
	struct port_ssh pssh;
	struct pool *pool;
	struct queue *queue;
	struct sched_driver *sched;
	struct http_server *http;
	struct mgmt_wiring mgmt;
	struct notify notify;
	const char **itype_names;
	struct standby *standby; /* issue 15: NULL without PostgreSQL */
};

static bool
dispatcher_driver_known(const char *driver)
{
	static const char *const known[] = { "ec2", "azure", "loopback" };

	for (size_t i = 0; driver != NULL && i < sizeof(known) / sizeof(*known); i++)
		if (strcmp(driver, known[i]) == 0)
			return true;
	return false;
}

/* ---- secrets: held as fds from here on (secret_fd.h) ---- */

/* cloudd's secret blob: {"DriverParameters": <config>, "Env": {AWS_* taken from our own
 * environment}} (cloudd/cloudd.c reads it). Built in one buffer that is wiped after the
 * memfd holds it. */
static int
dispatcher_cloud_secret_fd(const struct cfg_secrets *s)
{
	static const char pre[] = "{\"DriverParameters\":", mid[] = ",\"Env\":";
	const char *dp = s->driver_parameters_json ? s->driver_parameters_json : "{}";
	size_t dplen = s->driver_parameters_json ? s->driver_parameters_len : 2;
	cJSON *env = NULL;
	char *envs = NULL, *blob = NULL;
	size_t len = 0;
	int fd;

	fd = env_secrets_take(&env);
	if (fd == 0 && (envs = cJSON_PrintUnformatted(env)) == NULL)
		fd = -ENOMEM;
	env_secrets_free(env);
	if (fd == 0) {
		len = strlen(pre) + dplen + strlen(mid) + strlen(envs) + 1;
		if ((blob = malloc(len + 1)) == NULL)
			fd = -ENOMEM;
	}
	if (fd == 0) {
		snprintf(blob, len + 1, "%s%.*s%s%s}", pre, (int)dplen, dp, mid, envs);
		fd = secret_memfd_create("driver-parameters", blob, strlen(blob));
		adc_wipe(blob, len);
	}
	free(blob);
	if (envs != NULL) {
		adc_wipe(envs, strlen(envs));
		free(envs);
	}
	return fd;
}

static int
dispatcher_secret_fds(struct dispatcher *d, int *cloud_fd, int *key_fd)
{
	struct cfg_secrets *s = &d->cfg->secrets;

	*cloud_fd = *key_fd = -1;
	*cloud_fd = dispatcher_cloud_secret_fd(s);
	if (*cloud_fd < 0)
		return *cloud_fd;
	if (s->dispatch_private_key_path != NULL) {
		/* Opened, never read: the bytes go straight to sshd-pool. */
		*key_fd = open(s->dispatch_private_key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (*key_fd < 0) {
			int e = -errno;
			log_kv_err(LOG_LVL_FATAL,
				   "error parsing configured Containers.DispatchPrivateKey",
				   strerror(-e), LF_STR("path", s->dispatch_private_key_path));
			return e;
		}
	} else if (s->dispatch_private_key != NULL && s->dispatch_private_key_len > 0) {
		*key_fd = secret_memfd_create("dispatch-private-key", s->dispatch_private_key,
					      s->dispatch_private_key_len);
		if (*key_fd < 0)
			return *key_fd;
	} else {
		log_kv_err(LOG_LVL_FATAL, "error parsing configured Containers.DispatchPrivateKey",
			   "no key configured", LF_STR("key", "Containers.DispatchPrivateKey"));
		return -EINVAL;
	}
	cfg_secrets_wipe(s);
	heap_scrub_tcache();
	return 0;
}

/* ---- init messages ---- */

static int
cloudd_build_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct dispatcher *d = arg;
	const struct cfg_cloudvms *vm = &d->cfg->containers.cloudvms;
	struct proto_cloud_init m = {
		.driver = vm->driver,
		.driver_params_json = "", /* the secret rides as the fd */
		.instance_set_id = d->instance_set_id,
		.tag_key_prefix = vm->tag_key_prefix,
		.shared_tag_keys = vm->resource_tag_keys,
		.shared_tag_values = vm->resource_tag_values,
		.n_shared_tags = (uint32_t)vm->n_resource_tags,
	};

	(void)c;
	return proto_cloud_init_encode(w, 0, 0, &m);
}

static int
status_check_init(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct proto_status s;
	int r;

	(void)c;
	(void)arg;
	if (proto_status_decode(m, &s) != 0) {
		snprintf(why, len, "malformed init answer");
		return -1;
	}
	r = s.status == PROTO_OK ? 0 : -1;
	if (r != 0)
		snprintf(why, len, "init failed: %s", s.message);
	proto_status_free(&s);
	return r;
}

static int
sshpool_build_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct dispatcher *d = arg;
	const struct cfg_cloudvms *vm = &d->cfg->containers.cloudvms;
	struct proto_ssh_init m = {
		.boot_probe_command = vm->boot_probe_command,
		.ssh_port = vm->ssh_port,
		.cluster_id = d->cfg->cluster_id,
		.connect_timeout_ms = 30000,
		.command_timeout_ms = 300000,
		.crunch_run_command = d->cfg->containers.crunch_run_command,
		.deploy_dir = vm->deploy_runner_directory,
		.runner_md5 = d->pssh.runner_md5,
	};

	(void)c;
	return proto_ssh_init_encode(w, 0, 0, &m, true);
}

static int
sshpool_check_init(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct dispatcher *d = arg;
	struct proto_ssh_init_ans a;

	(void)c;
	if (proto_ssh_init_ans_decode(m, &a) != 0) {
		snprintf(why, len, "malformed init answer");
		return -1;
	}
	if (a.status != PROTO_OK) {
		snprintf(why, len, "error parsing configured Containers.DispatchPrivateKey: %s",
			 a.message);
		proto_ssh_init_ans_free(&a);
		return -1;
	}
	free(d->public_key);
	d->public_key = a.public_key;
	a.public_key = NULL;
	proto_ssh_init_ans_free(&a);
	return 0;
}

/* ---- the start-up list of our instances (what the worker pool will sync from) ---- */

static void
dispatcher_list_part(void *arg, const struct proto_cloud_inst *insts, size_t n)
{
	(void)insts;
	((struct dispatcher *)arg)->listed += n;
}

static void
dispatcher_list_done(void *arg, const struct proto_cloud_err *err)
{
	struct dispatcher *d = arg;

	d->listing = false;
	if (err->status == PROTO_OK)
		log_kv(LOG_LVL_INFO, "cloud instances listed",
		       LF_INT("Instances", (int64_t)d->listed));
	else
		log_kv_err(LOG_LVL_WARN, "cannot list cloud instances", err->text,
			   LF_INT("Status", err->status), LF_INT("ErrorClass", err->cls));
}

/* Each time cloudd becomes ready: list the instances tagged with our instance set. */
static void
dispatcher_cloud_list(struct dispatcher *d)
{
	char key[320];
	char *k[] = { key }, *v[] = { d->instance_set_id };
	struct proto_cloud_tags filter = { k, v, 1 };
	const char *prefix = d->cfg->containers.cloudvms.tag_key_prefix;

	if (d->listing)
		return;
	snprintf(key, sizeof(key), "%sInstanceSetID", prefix ? prefix : "");
	d->listed = 0;
	if (cloudc_list(d->cloudd, &filter, 300000, dispatcher_list_part, dispatcher_list_done,
			d) == 0)
		d->listing = true;
}

/* ---- readiness ---- */

static void
dispatcher_child_ready(struct child *c, void *arg)
{
	struct dispatcher *d = arg;

	if (c == d->cloudd) {
		dispatcher_cloud_list(d);
		port_cloud_ready(&d->pcloud); /* quota groups, EC2 counters */
	}
	if (d->notified_ready || child_state(d->cloudd) != CHILD_READY ||
	    child_state(d->sshpool) != CHILD_READY)
		return;
	d->notified_ready = true;
	log_kv(LOG_LVL_INFO, "dispatcher ready", LF_INT("CloudHelperPID", child_pid(d->cloudd)),
	       LF_INT("SSHHelperPID", child_pid(d->sshpool)));
	notify_helpers_ready(&d->notify);
}

/* A helper (re)started: whatever waited for it can go now. */
static void
dispatcher_child_up(struct child *c, void *arg)
{
	struct dispatcher *d = arg;

	dispatcher_child_ready(c, arg);
	if (c == d->cloudd && d->pool != NULL)
		pool_cloud_ready(d->pool); /* the first sync was refused if cloudd was not up */
	if (d->sched != NULL)
		sched_driver_kick(d->sched);
}

/* ---- start and stop ---- */

static void
dispatcher_child_stopped(void *arg)
{
	struct dispatcher *d = arg;

	if (--d->children_running == 0) {
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		uv_close((uv_handle_t *)&d->hard_stop, NULL);
	}
}

/* Whatever still holds the loop after the grace period (a request no one will answer) must
 * not hold up the exit: spec 1.7 only asks that nothing be destroyed or unlocked. */
static void
dispatcher_hard_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/*
 * Stop cleanly, in the reference's order (1.7): scheduler, queue, pool, management server,
 * API client, then the helpers. No instance is destroyed and no container unlocked.
 */
static void
dispatcher_signal_cb(uv_signal_t *s, int signum)
{
	struct dispatcher *d = s->data;

	if (d->children_running == 0 || d->cloudd == NULL)
		return;
	log_kv(LOG_LVL_INFO, "shutting down on signal", LF_STR("Signal", strsignal(signum)));
	notify_stopping(&d->notify);
	uv_signal_stop(&d->sigterm);
	uv_signal_stop(&d->sigint);
	uv_timer_start(&d->hard_stop, dispatcher_hard_stop, DISPATCHER_HARD_STOP_MS, 0);
	sched_driver_close(d->sched);
	d->sched = NULL;
	d->mgmt.sched = NULL;
	if (d->queue != NULL)
		queue_free(d->queue, NULL, NULL);
	d->queue = NULL;
	if (d->pool != NULL)
		pool_close(d->pool);
	d->pool = NULL;
	standby_close(d->standby); /* after the scheduler: the lock goes last */
	d->standby = NULL;
	if (d->http != NULL)
		http_server_close(d->http, NULL, NULL);
	d->http = NULL;
	notify_close(&d->notify);
	if (d->api != NULL)
		api_client_free(d->api, NULL, NULL);
	d->api = NULL;
	child_stop(d->cloudd, DISPATCHER_STOP_GRACE_MS, dispatcher_child_stopped, d);
	child_stop(d->sshpool, DISPATCHER_STOP_GRACE_MS, dispatcher_child_stopped, d);
	d->cloudd = d->sshpool = NULL;
}

static void
dispatcher_child_args(struct dispatcher *d, const char **a, const char *user, bool cloud)
{
	size_t n = 0;

	if (cloud) {
		a[n++] = "-driver";
		a[n++] = d->cfg->containers.cloudvms.driver;
	}
	a[n++] = "-cluster-id";
	a[n++] = d->cfg->cluster_id;
	a[n++] = "-log-format";
	a[n++] = d->cfg->log_format;
	a[n++] = "-log-level";
	a[n++] = d->cfg->log_level;
	if (user != NULL) {
		a[n++] = "-user";
		a[n++] = user;
	}
	if (d->opts->insecure_no_sandbox)
		a[n++] = "-insecure-no-sandbox";
	a[n] = NULL;
}

static int
dispatcher_start_children(struct dispatcher *d, const char *argv0, int cloud_fd, int key_fd)
{
	if (helper_path(d->opts->cloudd_path, argv0, "cloudd", d->cloudd_path,
			sizeof(d->cloudd_path)) != 0 ||
	    helper_path(d->opts->sshd_pool_path, argv0, "sshd-pool", d->sshpool_path,
			sizeof(d->sshpool_path)) != 0)
		return -ENOENT;
	dispatcher_child_args(d, d->cloudd_args, d->opts->cloudd_user, true);
	dispatcher_child_args(d, d->sshpool_args, d->opts->sshd_pool_user, false);
	struct child_spec cs = {
		.name = "cloudd",
		.role = PROTO_ROLE_CLOUDD,
		.path = d->cloudd_path,
		.args = d->cloudd_args,
		.secret_fd = cloud_fd,
		.build_init = cloudd_build_init,
		.check_init = status_check_init,
		.on_ready = dispatcher_child_up,
		.arg = d,
	};
	struct child_spec ss = {
		.name = "sshd-pool",
		.role = PROTO_ROLE_SSHD_POOL,
		.path = d->sshpool_path,
		.args = d->sshpool_args,
		.secret_fd = key_fd,
		.build_init = sshpool_build_init,
		.check_init = sshpool_check_init,
		.on_ready = dispatcher_child_up,
		.arg = d,
	};
	d->cloudd = child_new(&d->loop, &cs);
	d->sshpool = child_new(&d->loop, &ss);
	if (d->cloudd == NULL || d->sshpool == NULL)
		return -ENOMEM;
	d->children_running = 2;
	return 0;
}

/* ---- start-up, spec 1.6 adapted to three processes ---- */

static int
dispatcher_listen(struct dispatcher *d)
{
	char err[512];
	const char *env = getenv("ARVADOS_SERVICE_INTERNAL_URL");

	if (http_listen_open(d->cfg->dispatch_internal_urls, d->cfg->n_dispatch_internal_urls, env,
			     &d->listen, err, sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot listen", err,
			     (const struct log_field[]){ LF_END });
		return -1;
	}
	return 0;
}

static int
dispatcher_metrics(struct dispatcher *d)
{
	const struct cfg_cluster *c = d->cfg;

	if ((d->metrics = metrics_new()) == NULL ||
	    (d->itype_names = calloc(c->n_instance_types + 1, sizeof(char *))) == NULL)
		return -ENOMEM;
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
	return metrics_catalog_register(d->metrics, &in);
}

static int
dispatcher_api(struct dispatcher *d)
{
	struct api_client_opts o;
	char *err = NULL;

	api_client_opts_from_cfg(d->cfg, &o);
	if (api_client_new(&d->loop, &o, &d->api, &err) != 0) {
		log_emit_err(LOG_LVL_FATAL, "unhealthy service",
			     err ? err : "cannot build API client",
			     (const struct log_field[]){ LF_END });
		free(err);
		return -1;
	}
	return 0;
}

/* DeployRunnerBinary: resolved, opened, hashed; sshd-pool's init carries the md5. */
static int
dispatcher_runner(struct dispatcher *d)
{
	const struct cfg_cloudvms *vm = &d->cfg->containers.cloudvms;
	char err[512];
	int r;

	d->pssh.runner_fd = -1;
	if (pool_runner_resolve(vm->deploy_runner_binary, NULL, &d->runner_path, err,
				sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "error loading runner binary", err,
			     (const struct log_field[]){ LF_END });
		return -1;
	}
	if (d->runner_path[0] == '\0')
		return 0;
	d->pssh.runner_fd = open(d->runner_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (d->pssh.runner_fd < 0 ||
	    (r = sshc_file_md5(d->pssh.runner_fd, d->pssh.runner_md5)) != 0) {
		log_kv_err(LOG_LVL_FATAL, "error loading runner binary", strerror(errno),
			   LF_STR("DeployRunnerBinary", d->runner_path));
		return -1;
	}
	return 0;
}

static void
dispatcher_pool_notify(void *arg)
{
	struct dispatcher *d = arg;

	sched_driver_kick(d->sched);
}

static void
dispatcher_queue_notify(void *arg)
{
	struct dispatcher *d = arg;

	sched_driver_kick(d->sched);
}

/* Pool (first sync at once), queue (first poll retried until success, 2.7), scheduler. */
static int
dispatcher_services(struct dispatcher *d)
{
	const struct cfg_cloudvms *vm = &d->cfg->containers.cloudvms;
	struct pool_opts po = {
		.loop = &d->loop,
		.cluster = d->cfg,
		.metrics = d->metrics,
		.notify = dispatcher_pool_notify,
		.notify_ctx = d,
		.runner_md5 = d->pssh.runner_md5,
	};
	int r;

	d->pcloud = (struct port_cloud){ .cloudd = &d->cloudd,
					 .cluster = d->cfg,
					 .public_key = &d->public_key,
					 .timeout_ms = 120000,
					 .metrics = d->metrics };
	port_cloud_init(&d->pcloud, &po.cloud);
	d->pssh.sshpool = &d->sshpool;
	d->pssh.port = (uint16_t)(atoi(vm->ssh_port) > 0 ? atoi(vm->ssh_port) : 22);
	port_ssh_init(&d->pssh, &po.ssh);
	if ((r = itypes_table_new(d->cfg, &d->itypes)) != 0 || (r = pool_new(&po, &d->pool)) != 0)
		return r;
	struct queue_opts qo = {
		.loop = &d->loop, .api = d->api, .cluster = d->cfg, .itypes = d->itypes
	};
	if ((r = queue_new(&qo, &d->queue)) != 0)
		return r;
	struct sched_driver_opts so = { .loop = &d->loop,
					.cluster = d->cfg,
					.queue = d->queue,
					.pool = d->pool,
					.api = d->api,
					.metrics = d->metrics };
	if ((r = sched_driver_new(&so, &d->sched)) != 0)
		return r;
	queue_set_notify(d->queue, dispatcher_queue_notify, d);
	queue_set_poll_cb(d->queue, sched_driver_poll_done, d->sched);
	return queue_start(d->queue);
}

static int
dispatcher_serve(struct dispatcher *d)
{
	char err[512], *cert = NULL, *key = NULL;
	int r;

	if (d->listen.https && http_listen_load_tls(d->cfg->tls_certificate, d->cfg->tls_key, &cert,
						    &key, err, sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot load TLS certificate", err,
			     (const struct log_field[]){ LF_END });
		return -1;
	}
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
			     (const struct log_field[]){ LF_END });
		return -1;
	}
	log_kv(LOG_LVL_INFO, "listening", LF_STR("URL", d->listen.internal_url),
	       LF_STR("Listen", d->listen.listen_url), LF_STR("Service", "arvados-dispatch-cloud"),
	       LF_STR("Version", ADC_VERSION));
	d->notify.sched = d->sched;
	notify_listening(&d->notify);
	return 0;
}

static void
dispatcher_close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* After a hard stop some handles may still be open: close them and let their callbacks run
 * (bounded), so that the loop and everything hanging off it is released. */
static void
dispatcher_loop_close(uv_loop_t *loop)
{
	for (int i = 0; i < 10 && uv_loop_close(loop) == UV_EBUSY; i++) {
		uv_walk(loop, dispatcher_close_handle, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
	}
}

int
dispatcher_run(const struct cli_opts *opts, struct cfg_cluster *cfg, const char *argv0)
{
	struct dispatcher d = { .cfg = cfg, .opts = opts, .listen = { .fd = -1 } };
	int cloud_fd = -1, key_fd = -1, r;

	signal(SIGPIPE, SIG_IGN);
	if (!dispatcher_driver_known(cfg->containers.cloudvms.driver)) {
		log_kv_err(LOG_LVL_FATAL, "error initializing driver", "unsupported cloud driver",
			   LF_STR("Driver", cfg->containers.cloudvms.driver));
		return 1;
	}
	if (identity_instance_set_id(cfg->system_root_token ? cfg->system_root_token : "",
				     d.instance_set_id, sizeof(d.instance_set_id)) != 0)
		return 1;
	/* A bad listen address fails before anything is started. */
	if (dispatcher_listen(&d) != 0)
		return 1;
	uv_loop_init(&d.loop);
	if (dispatcher_metrics(&d) != 0 || dispatcher_api(&d) != 0 || dispatcher_runner(&d) != 0)
		return 1;
	if (standby_init(&d.standby, &d.loop, cfg, d.metrics) != 0)
		return 1;
	if (dispatcher_secret_fds(&d, &cloud_fd, &key_fd) != 0) {
		if (cloud_fd >= 0)
			close(cloud_fd);
		return 1;
	}
	uv_signal_init(&d.loop, &d.sigterm);
	uv_signal_init(&d.loop, &d.sigint);
	uv_timer_init(&d.loop, &d.hard_stop);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, dispatcher_signal_cb, SIGTERM);
	uv_signal_start(&d.sigint, dispatcher_signal_cb, SIGINT);
	notify_init(&d.notify, &d.loop);
	r = dispatcher_start_children(&d, argv0, cloud_fd, key_fd);
	if (r != 0) {
		log_kv_err(LOG_LVL_FATAL, "cannot start the helpers", strerror(-r),
			   LF_STR("cloudd", d.cloudd_path), LF_STR("sshd-pool", d.sshpool_path));
		return 1;
	}
	if ((r = dispatcher_services(&d)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot start the dispatcher", strerror(-r),
			     (const struct log_field[]){ LF_END });
		return 1;
	}
	standby_attach(d.standby, d.pool, d.sched);
	if (dispatcher_serve(&d) != 0)
		return 1;
	uv_run(&d.loop, UV_RUN_DEFAULT);
	dispatcher_loop_close(&d.loop);
	port_cloud_free(&d.pcloud);
	metrics_free(d.metrics);
	itypes_table_free(d.itypes);
	free(d.public_key);
	free(d.runner_path);
	free(d.itype_names);
	http_listen_free(&d.listen);
	log_kv(LOG_LVL_INFO, "dispatcher stopped", LF_INT("ExitCode", d.exit_code));
	return d.exit_code;
}
