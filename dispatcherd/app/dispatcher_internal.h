/*
 * dispatcher_internal.h - the composition root's state and its boot steps. dispatcher.c runs
 * the steps in order (dispatcher_run) and tears down whatever was built; boot_*.c build;
 * wakeups.c holds every callback one module gives another, with the table of who wakes whom.
 */
#ifndef ADC_DISPATCHER_INTERNAL_H
#define ADC_DISPATCHER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <uv.h>

#include "api_client.h"
#include "child.h"
#include "cli.h"
#include "config.h"
#include "http_listen.h"
#include "http_server.h"
#include "instance_types.h"
#include "metrics.h"
#include "mgmt_wiring.h"
#include "notify.h"
#include "pool.h"
#include "port_cloud.h"
#include "port_ssh.h"
#include "queue.h"
#include "sched_driver.h"
#include "standby.h"

struct dispatcher {
	struct cfg_cluster *cfg;
	const struct cli_opts *opts;
	const char *argv0;
	char instance_set_id[64];
	int exit_code;
	bool stopping; /* a signal (or a failed boot) asked for the stop */

	/* boot_loop */
	uv_loop_t loop;
	bool loop_ready;
	uv_signal_t sigterm, sigint;
	uv_timer_t hard_stop;
	struct notify notify;

	/* boot_listen, boot_metrics, boot_api, boot_runner */
	struct http_listen listen;
	struct metrics_registry *metrics;
	const char **itype_names;
	struct api_client *api;
	char *runner_path;
	char *tls_cert, *tls_key; /* boot_tls: the management server's PEM, until boot_serve */

	/* boot_helpers */
	int cloud_fd, key_fd; /* the secrets as fds, until the helpers own them */
	char *public_key;     /* the dispatch key's public half, from sshd-pool */
	struct child *cloudd, *sshpool;
	char cloudd_path[PATH_MAX], sshpool_path[PATH_MAX];
	const char *cloudd_args[16], *sshpool_args[16];
	bool helpers_ready;

	/* boot_services, boot_serve */
	struct itypes_table *itypes;
	struct port_cloud pcloud;
	struct port_ssh pssh;
	struct pool *pool;
	struct queue *queue;
	struct sched_driver *sched;
	struct standby *standby; /* the PostgreSQL lock and the gate (issue 15); NULL without one */
	struct http_server *http;
	struct mgmt_wiring mgmt;
};

/* Boot steps, in dispatcher_run's order. Each logs its own fatal error and returns -1, or 0;
 * what it built stays in d for dispatcher.c's teardown. */
int boot_identity(struct dispatcher *d);
int boot_listen(struct dispatcher *d);
int boot_loop(struct dispatcher *d);
int boot_metrics(struct dispatcher *d);
int boot_api(struct dispatcher *d);
int boot_runner(struct dispatcher *d);
int boot_standby(struct dispatcher *d);
int boot_standby_start(struct dispatcher *d);
int boot_secrets(struct dispatcher *d);
int boot_helper_paths(struct dispatcher *d); /* boot_sandbox.c, as the next two */
int boot_tls(struct dispatcher *d);
int boot_sandbox(struct dispatcher *d);
int boot_helpers(struct dispatcher *d);
int boot_services(struct dispatcher *d);
int boot_serve(struct dispatcher *d);

/* wakeups.c: the callbacks the boot steps hand out. */
void wake_helper_up(struct child *c, void *dispatcher);
void wake_helper_refused(struct child *c, void *dispatcher);
void wake_pool_changed(void *dispatcher);
void wake_queue_changed(void *dispatcher);
void wake_queue_polled(void *dispatcher, bool ok);
void wake_status_text(void *dispatcher, char *buf, size_t len);
void wake_stop_signal(uv_signal_t *s, int signum);

/* -spot-interruption-notices in effect: given, and the driver is ec2 (the notice is EC2's
 * instance metadata; boot_services warns once when it is given for another driver). */
bool dispatcher_spot_notices(const struct dispatcher *d);

/* dispatcher.c: stop everything (spec 1.7 order); the loop then runs out. */
void dispatcher_stop(struct dispatcher *d);

#endif
