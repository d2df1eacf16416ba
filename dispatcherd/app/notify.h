/*
 * notify.h - systemd notifications: READY=1 once both helpers are initialised and the
 * management listener is up (not before: a unit ordered after us may call the API at
 * once), a one-line STATUS= (queued, running, instances) refreshed every few seconds, and
 * WATCHDOG=1 at half of $WATCHDOG_USEC when the unit sets one. Failures are only logged
 * (spec 1.6 step 6).
 */
#ifndef ADC_NOTIFY_H
#define ADC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* Writes the STATUS= text (after "STATUS=") into buf, NUL-terminated. */
typedef void (*notify_status_fn)(void *ctx, char *buf, size_t len);

struct notify {
	uv_timer_t status_timer, watchdog_timer;
	notify_status_fn status; /* set by notify_init (app/dispatcher.c) */
	void *status_ctx;
	bool helpers_ready, listening, ready_sent;
	int open_handles;
};

void notify_init(struct notify *n, uv_loop_t *loop, notify_status_fn status, void *status_ctx);
/* Either condition met; READY=1 is sent when both are. */
void notify_helpers_ready(struct notify *n);
void notify_listening(struct notify *n);
void notify_stopping(struct notify *n);
/* Close the timers (n must stay valid until the loop has run their close callbacks). */
void notify_close(struct notify *n);

#endif
