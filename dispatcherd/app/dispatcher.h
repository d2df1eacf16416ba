/*
 * dispatcher.h - dispatcherd's top level: one libuv loop, the two helpers, signals,
 * readiness. The queue, the scheduler, the worker pool and the management API hang off
 * this as they are built (see docs/ARCHITECTURE.md).
 */
#ifndef ADC_DISPATCHER_H
#define ADC_DISPATCHER_H

#include "cli.h"
#include "config.h"

/* Run until SIGTERM/SIGINT. Takes the config; wipes its secrets once they are held as fds.
 * Returns the process exit code. */
int dispatcher_run(const struct cli_opts *opts, struct cfg_cluster *cfg, const char *argv0);

#endif
