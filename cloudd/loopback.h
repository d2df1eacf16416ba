/*
 * loopback.h - the loopback driver (spec cloud-drivers.md section 4, with the design's
 * change): the one "instance" is this host, reached through a private OpenSSH sshd.
 *
 * Create removes /var/lock/crunch-run-broken (as the reference; another removal error than
 * "no such file" fails the create), generates a fresh ed25519 host key with ssh-keygen, authorizes only the public
 * key given to create, and starts /usr/sbin/sshd -D -f <private_dir>/sshd_config on
 * 127.0.0.1 with an ephemeral port (picked by binding port 0; a collision is retried with
 * a new port). The instance's address is 127.0.0.1:<port>, its remote user the OS user
 * cloudd runs as (root when the dispatcher runs as root), and its host_key the generated
 * key's public line, so the parent can pin it. One instance at most: a second create is a
 * quota error ("loopback driver is always at quota"). Destroy stops that sshd (SIGTERM,
 * then SIGKILL) and answers once it is gone. Tags live in memory; no price history; the
 * quota group is "". sshd gets PR_SET_PDEATHSIG, so it dies with cloudd. A loopback cloudd
 * has no Landlock or seccomp (main.c), so sshd and the commands it runs are not confined.
 */
#ifndef ADC_LOOPBACK_H
#define ADC_LOOPBACK_H

#include <stddef.h>
#include <uv.h>

#include "drv.h"

/* private_dir: an existing directory writable by us (sshd_config, host key,
 * authorized_keys live there); user: the remote user. 0, or -errno with err set. */
int loopback_driver_new(uv_loop_t *loop, const char *private_dir, const char *user,
			struct drv **out, char *err, size_t errlen);

#endif
