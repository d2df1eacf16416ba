/* pool_gate.h - the pool resumed by the dispatch gate (issue 15, base/dispatch_gate.h;
 * app/standby.c calls it). */
#ifndef ADC_POOL_GATE_H
#define ADC_POOL_GATE_H

struct pool;

/* Before resuming, every in-service worker is probed again as after a restart (state unknown:
 * Locked containers wait for the probes) and takes its IdleBehavior from its last listed tags
 * (the active dispatcher may have held or drained it), then probes and kills restart. */
void pool_gate_resume(struct pool *p);

#endif
