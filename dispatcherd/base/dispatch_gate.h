/*
 * dispatch_gate.h - the one switch between "dispatching" and "standby" (issue 15).
 *
 * While the gate is closed nothing that changes the world is started: no container is locked,
 * unlocked or cancelled (queue_ops.c, queue_cancel.c), no scheduling pass or stale-lock fix runs
 * (sched_driver.c, sched_driver_gate.c), and the pool neither probes nor runs commands over SSH
 * (pool_probe_loop.c, pool_runner.c kill steps) nor destroys instances (pool_shutdown.c) nor
 * writes their tags (pool_tags.c: the active dispatcher owns them); instances are only created
 * by the scheduler's passes. What only reads goes on: the queue
 * polls, the pool lists instances (adopting them as unknown), the management API and /metrics
 * answer. The gate is open unless app/standby.c, holding a PostgreSQL connection config, closes
 * it. The pause and resume of the scheduler loop and the pool are theirs: loop/sched_driver_gate.h,
 * pool/pool_gate.h.
 */
#ifndef ADC_DISPATCH_GATE_H
#define ADC_DISPATCH_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* true: this process may dispatch (holds the lock, or runs without PostgreSQL), and, with a
 * lease set, the lock was last confirmed recently enough (a process frozen past its lease, by
 * SIGSTOP or a stalled host, does nothing on waking before the lock is confirmed again). */
bool dispatch_gate_open(void);
void dispatch_gate_set(bool open);
/* Open only until uv_hrtime() reaches until_ns (0: no lease). */
void dispatch_gate_set_lease(uint64_t until_ns);

/* While closed: "standby: <reason>" (systemd's STATUS= text) into buf, and true; false while
 * open. */
bool dispatch_gate_status(char *buf, size_t len);
/* What the standby STATUS says after "standby: " (e.g. "lock held by 10.1.2.3:5678"). */
void dispatch_gate_set_reason(const char *reason);

#endif
