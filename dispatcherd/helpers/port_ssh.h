/*
 * port_ssh.h - the worker pool's ssh port (pool_ports.h) carried out by sshd-pool through
 * sshc.h: one call per operation, outcomes mapped 1:1.
 *
 * The adapter holds what the pool does not pass: the SSH port (CloudVMs.SSHPort, or the
 * port in an address "host:port" the driver gives), the runner binary's fd and md5 for
 * deploy. sshd-pool restarting mid-call (PROTO_E_RETRY) becomes POOL_SSH_UNVERIFIED: its
 * sessions are gone, so the pool verifies the worker again on its next probe.
 */
#ifndef ADC_PORT_SSH_H
#define ADC_PORT_SSH_H

#include <stdint.h>

#include "child.h"
#include "pool_ports.h"

struct port_ssh {
	struct child **sshpool; /* the dispatcher's sshd-pool (survives restarts) */
	uint16_t port;		/* default SSH port */
	int runner_fd;		/* DeployRunnerBinary opened read-only; -1: no deploy */
	char runner_md5[33];
};

void port_ssh_init(struct port_ssh *ps, struct pool_ssh_port *port);

#endif
