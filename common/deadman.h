/* deadman.h - the dead-man's switch's heartbeat on a worker (-deadman-timeout, docs/POOL.md):
 * sshd-pool's run probe touches it (ops_cmd_run_probe), the watchdog that dispatcherd's init
 * command installs reads its age (dispatcherd/pool/pool_deadman.c). */
#ifndef ADC_DEADMAN_H
#define ADC_DEADMAN_H

#define ADC_DEADMAN_HEARTBEAT_PATH "/var/run/arvados-dispatch-heartbeat"

#endif
