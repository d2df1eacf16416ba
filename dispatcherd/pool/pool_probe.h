/* pool_probe.h - one probe in flight (pool_probe.c) and applying its result (pool_probe_apply.c). */
#ifndef ADC_POOL_PROBE_H
#define ADC_POOL_PROBE_H

#include "pool_internal.h"

struct pool_probe {
	struct pool *p;
	struct pool_worker *w; /* referenced */
	int64_t start;	       /* probe start: the failure path measures from here */
	int64_t run_started;
	int64_t updated0; /* w->updated at start (probe/sync race, 5.7.4 step 3) */
	enum sched_wstate state0;
	bool booted;
	bool ok;		      /* the run probe succeeded */
	bool spot;		      /* it did the spot check too: its line comes first in out */
	char *out;		      /* its stdout, NUL-terminated */
	char *boot_stderr, *boot_err; /* the last failed boot probe, for "boot failed" */
};

/* 5.7.4. */
void pool_probe_apply(struct pool_probe *pr);

#endif
