/* sched_driver_gate.h - the scheduler loop paused and resumed by the dispatch gate (issue 15,
 * base/dispatch_gate.h; app/standby.c calls these). */
#ifndef ADC_SCHED_DRIVER_GATE_H
#define ADC_SCHED_DRIVER_GATE_H

struct sched_driver;

/* Stop the scheduler at once (passes, 2.9, timers; state kept), and start it again as after a
 * restart (next poll, then 2.9, then passes). */
void sched_driver_gate_pause(struct sched_driver *d);
void sched_driver_gate_resume(struct sched_driver *d);

#endif
