/*
 * dispatcher.c - see dispatcher.h. dispatcher_run is the whole start-up order; each step is
 * a boot_* function (boot_services.c, boot_helpers.c) that leaves what it built in struct
 * dispatcher, and every exit, a failed step or a stop, goes through the same teardown.
 */
#include "dispatcher.h"
#include "dispatcher_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define DISPATCHER_STOP_GRACE_MS 1500
#define DISPATCHER_HARD_STOP_MS	 1900

/* The loop, the signals that stop it, the hard-stop timer and systemd's notifications. */
int
boot_loop(struct dispatcher *d)
{
	int r = uv_loop_init(&d->loop);

	if (r != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot start the event loop", uv_strerror(r),
			     (const struct log_field[]){ LF_END });
		return -1;
	}
	d->loop_ready = true;
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sigint);
	uv_timer_init(&d->loop, &d->hard_stop);
	uv_unref((uv_handle_t *)&d->hard_stop); /* bounds the stop, never holds the loop */
	d->sigterm.data = d->sigint.data = d;
	uv_signal_start(&d->sigterm, wake_stop_signal, SIGTERM);
	uv_signal_start(&d->sigint, wake_stop_signal, SIGINT);
	notify_init(&d->notify, &d->loop, wake_status_text, d);
	return 0;
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
 * API client, then the helpers. No instance is destroyed and no container unlocked. Also the
 * way out of a failed boot step: each piece is stopped only if it was built.
 */
void
dispatcher_stop(struct dispatcher *d)
{
	d->stopping = true;
	notify_stopping(&d->notify);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_timer_start(&d->hard_stop, dispatcher_hard_stop, DISPATCHER_HARD_STOP_MS, 0);
	sched_driver_close(d->sched);
	d->sched = d->mgmt.sched = NULL;
	if (d->queue != NULL)
		queue_free(d->queue, NULL, NULL);
	d->queue = NULL;
	if (d->pool != NULL)
		pool_close(d->pool);
	d->pool = NULL;
	standby_close(d->standby); /* after the scheduler and the pool: the lock goes last */
	d->standby = NULL;
	if (d->http != NULL)
		http_server_close(d->http, NULL, NULL);
	d->http = NULL;
	notify_close(&d->notify);
	if (d->api != NULL)
		api_client_free(d->api, NULL, NULL);
	d->api = NULL;
	if (d->cloudd != NULL)
		child_stop(d->cloudd, DISPATCHER_STOP_GRACE_MS, NULL, NULL);
	if (d->sshpool != NULL)
		child_stop(d->sshpool, DISPATCHER_STOP_GRACE_MS, NULL, NULL);
	d->cloudd = d->sshpool = NULL;
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

/* Everything the boot steps built, whether the loop ran or a step failed. */
static void
dispatcher_teardown(struct dispatcher *d)
{
	if (d->loop_ready) {
		if (!d->stopping) {
			dispatcher_stop(d);
			uv_run(&d->loop,
			       UV_RUN_DEFAULT); /* the stop runs out (hard stop bounds it) */
		}
		dispatcher_loop_close(&d->loop);
	}
	port_cloud_free(&d->pcloud);
	metrics_free(d->metrics);
	itypes_table_free(d->itypes);
	free(d->public_key);
	free(d->runner_path);
	free(d->tls_cert);
	adc_free_secret_str(d->tls_key);
	free((void *)d->itype_names);
	http_listen_free(&d->listen);
	if (d->pssh.runner_fd >= 0)
		close(d->pssh.runner_fd);
	if (d->cloud_fd >= 0)
		close(d->cloud_fd);
	if (d->key_fd >= 0)
		close(d->key_fd);
}

int
dispatcher_run(const struct cli_opts *opts, struct cfg_cluster *cfg, const char *argv0)
{
	struct dispatcher d = { .cfg = cfg,
				.opts = opts,
				.argv0 = argv0,
				.listen = { .fd = -1 },
				.pssh = { .runner_fd = -1 },
				.cloud_fd = -1,
				.key_fd = -1 };

	signal(SIGPIPE, SIG_IGN);
	if (boot_identity(&d) != 0 ||	   /* driver name, InstanceSetID */
	    boot_listen(&d) != 0 ||	   /* bound: a bad address fails before anything starts */
	    boot_loop(&d) != 0 ||	   /* loop, signals, systemd notifications */
	    boot_metrics(&d) != 0 ||	   /* registry (section 8), config digest */
	    boot_api(&d) != 0 ||	   /* API client: "unhealthy service" */
	    boot_runner(&d) != 0 ||	   /* DeployRunnerBinary resolved, opened, md5 */
	    boot_standby(&d) != 0 ||	   /* PostgreSQL lock 10005: standby until held (set up) */
	    boot_secrets(&d) != 0 ||	   /* secrets into sealed memfds, config wiped */
	    boot_helper_paths(&d) != 0 ||  /* the two files the parent may execute */
	    boot_tls(&d) != 0 ||	   /* management TLS files read */
	    boot_sandbox(&d) != 0 ||	   /* no_new_privs, Landlock, seccomp: no file read after */
	    boot_standby_start(&d) != 0 || /* the lock sought (its DNS lookup's thread sandboxed) */
	    boot_helpers(&d) != 0 ||	   /* cloudd and sshd-pool started */
	    boot_services(&d) != 0 ||	   /* pool, queue, scheduler loop */
	    boot_serve(&d) != 0) {	   /* management server on the bound socket */
		d.exit_code = 1;
	} else {
		uv_run(&d.loop, UV_RUN_DEFAULT);
		if (!d.stopping) {
			/* Nothing holds the loop any more, and no one asked for a stop. */
			log_emit_err(LOG_LVL_ERROR, "dispatcher loop ended unexpectedly",
				     "no stop was requested", (const struct log_field[]){ LF_END });
			d.exit_code = 1;
		}
	}
	dispatcher_teardown(&d);
	log_kv(LOG_LVL_INFO, "dispatcher stopped", LF_INT("ExitCode", d.exit_code));
	return d.exit_code;
}
