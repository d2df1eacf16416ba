/*
 * wakeups.c - who wakes whom. Every callback one module gives another is handed out here,
 * at construction (boot_*.c pass these functions), so that the modules themselves call only
 * downwards and this table is the whole picture:
 *
 *   who (callback)                    when                           wakes
 *   --------------------------------  -----------------------------  ---------------------------
 *   pool (pool_opts.on_change)        a worker added, removed or     scheduler loop: a pass
 *                                     changed state; a hold expired  (sched_driver_kick)
 *   queue (queue_opts.on_change)      the cached containers changed  scheduler loop: a pass
 *   queue (queue_opts.on_poll)        a poll ended, ok or not        scheduler loop: the first
 *                                                                    success starts 2.9
 *                                                                    (sched_driver_poll_done)
 *   cloudd, sshd-pool                 (re)started and initialised    cloud port (quota groups,
 *     (child_spec.on_ready)                                          EC2 counters), pool (sync
 *                                                                    now if one was refused),
 *                                                                    scheduler loop: a pass;
 *                                                                    systemd READY=1 once both
 *   management API action             hold/drain/run/kill done       scheduler loop: a pass
 *     (mgmt/mgmt_wiring.c, mgmt -> loop, an arrow down)
 *   boot_serve                        the listener is up             systemd READY=1 once the
 *                                                                    helpers are up too
 *   systemd STATUS= timer             every 5 s                      reads the scheduler loop's
 *     (notify_init's status callback)                                counts (sched_driver_stats)
 *   SIGTERM, SIGINT                   once                           dispatcher_stop (1.7)
 *   cloudd, sshd-pool                 init refused for good (bad     dispatcher_stop, exit 1
 *     (child_spec.on_fatal)           key, DriverParameters, driver)
 */
#include "dispatcher_internal.h"

#include <stdio.h>
#include <string.h>

#include "dispatch_gate.h"
#include "log.h"

/* A helper (re)started and answered its init: whatever waited for it can go now. */
void
wake_helper_up(struct child *c, void *arg)
{
	struct dispatcher *d = arg;

	if (c == d->cloudd)
		port_cloud_ready(&d->pcloud); /* quota groups, EC2 counters */
	if (!d->helpers_ready && child_state(d->cloudd) == CHILD_READY &&
	    child_state(d->sshpool) == CHILD_READY) {
		d->helpers_ready = true;
		log_kv(LOG_LVL_INFO, "dispatcher ready",
		       LF_INT("CloudHelperPID", child_pid(d->cloudd)),
		       LF_INT("SSHHelperPID", child_pid(d->sshpool)));
		notify_helpers_ready(&d->notify);
	}
	if (c == d->cloudd && d->pool != NULL)
		pool_cloud_ready(d->pool); /* the first sync was refused if cloudd was not up */
	sched_driver_kick(d->sched);	   /* NULL-safe: before boot_services nothing to wake */
}

void
wake_pool_changed(void *arg)
{
	sched_driver_kick(((struct dispatcher *)arg)->sched);
}

void
wake_queue_changed(void *arg)
{
	sched_driver_kick(((struct dispatcher *)arg)->sched);
}

void
wake_queue_polled(void *arg, bool ok)
{
	struct dispatcher *d = arg;

	if (d->sched != NULL)
		sched_driver_poll_done(d->sched, ok);
}

/* STATUS=queued N, running N, instances N (zeros before the scheduler loop exists). */
void
wake_status_text(void *arg, char *buf, size_t len)
{
	struct dispatcher *d = arg;
	struct sched_driver_stats s = { 0 };

	if (dispatch_gate_status(buf, len))
		return; /* standby: who holds the lock (issue 15) */
	if (d->sched != NULL)
		sched_driver_stats(d->sched, &s);
	snprintf(buf, len, "queued %zu, running %zu, instances %zu", s.queued + s.locked, s.running,
		 s.instances);
}

void
wake_stop_signal(uv_signal_t *s, int signum)
{
	struct dispatcher *d = s->data;

	if (d->stopping)
		return;
	log_kv(LOG_LVL_INFO, "shutting down on signal", LF_STR("Signal", strsignal(signum)));
	dispatcher_stop(d);
}

/* A helper refused its init for good (child.c logged why): stop as on SIGTERM, exit 1. */
void
wake_helper_refused(struct child *c, void *arg)
{
	struct dispatcher *d = arg;

	(void)c;
	d->exit_code = 1;
	if (!d->stopping)
		dispatcher_stop(d);
}
