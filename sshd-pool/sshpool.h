/* sshpool.h - sshd-pool's state: the dispatch key and the SSH settings. */
#ifndef ADC_SSHPOOL_H
#define ADC_SSHPOOL_H

#include <libssh/libssh.h>

#include "proto.h"
#include "proto_chan.h"

struct sshpool {
	ssh_key key;                  /* the dispatch private key; never leaves this process */
	char *public_key;             /* "<type> <base64>" */
	char *boot_probe_command;
	char *ssh_port;
	char *cluster_id;
};

int sshpool_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg);
void sshpool_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg);
void sshpool_teardown(struct sshpool *sp);

/* Parse a private key (PEM or OpenSSH text, RSA/ECDSA/Ed25519) and derive the public key
 * line. The text is not modified; the caller wipes it. 0, or -1 with why filled in. */
int sshpool_key_load(const char *text, ssh_key *key, char **public_line, char *why, size_t len);

#endif
