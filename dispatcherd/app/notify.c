/* notify.c - see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "dispatch_gate.h"
#include "log.h"

#define NOTIFY_STATUS_MS 5000

static void
notify_status(struct notify *n)
{
	char buf[160] = "STATUS=";

	n->status(n->status_ctx, buf + strlen(buf), sizeof(buf) - strlen(buf));
	sd_notify(0, buf);
}

static void
notify_status_cb(uv_timer_t *t)
{
	notify_status(t->data);
}

static void
notify_watchdog_cb(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

void
notify_init(struct notify *n, uv_loop_t *loop, notify_status_fn status, void *status_ctx)
{
	uint64_t usec = 0;

	memset(n, 0, sizeof(*n));
	n->status = status;
	n->status_ctx = status_ctx;
	uv_timer_init(loop, &n->status_timer);
	uv_timer_init(loop, &n->watchdog_timer);
	n->status_timer.data = n->watchdog_timer.data = n;
	/* sd_watchdog_enabled honours WATCHDOG_PID (the watchdog is for the main process
	 * only) and, with unset_environment, keeps the helpers, which inherit our
	 * environment, from seeing WATCHDOG_USEC. */
	if (sd_watchdog_enabled(1, &usec) > 0 && usec > 0) {
		uint64_t ms = usec / 2000;
		uv_timer_start(&n->watchdog_timer, notify_watchdog_cb, ms ? ms : 1, ms ? ms : 1);
	}
}

static void
notify_maybe_ready(struct notify *n)
{
	if (n->ready_sent || !n->helpers_ready || !n->listening)
		return;
	n->ready_sent = true;
	int r = sd_notify(0, "READY=1");
	if (r < 0)
		log_emit_err(LOG_LVL_WARN, "error notifying init daemon", strerror(-r),
			     (const struct log_field[]){ LF_END });
	notify_status(n);
	uv_timer_start(&n->status_timer, notify_status_cb, NOTIFY_STATUS_MS, NOTIFY_STATUS_MS);
}

void
notify_helpers_ready(struct notify *n)
{
	n->helpers_ready = true;
	notify_maybe_ready(n);
}

void
notify_listening(struct notify *n)
{
	n->listening = true;
	notify_maybe_ready(n);
}

void
notify_stopping(struct notify *n)
{
	sd_notify(0, "STOPPING=1");
	uv_timer_stop(&n->status_timer);
}

void
notify_close(struct notify *n)
{
	uv_close((uv_handle_t *)&n->status_timer, NULL);
	uv_close((uv_handle_t *)&n->watchdog_timer, NULL);
}
