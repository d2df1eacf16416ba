/* loopback_port.h - the loopback sshd's port on 127.0.0.1. */
#ifndef ADC_LOOPBACK_PORT_H
#define ADC_LOOPBACK_PORT_H

#include <stdbool.h>

/* An unused port: bind 0 and read back what the kernel picked; or -errno. */
int loopback_pick_port(void);
/* true when something accepts a TCP connection on 127.0.0.1:port (sshd is up). */
bool loopback_listening(int port);

#endif
