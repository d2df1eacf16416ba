/*
 * proto_child.h - the child side of the parent channel, shared by cloudd and sshd-pool.
 *
 * A child accepts, in this order and no other: HELLO_REQ (version and build id must equal
 * its own), its init request (once), then its role's requests. PING_REQ is answered in any
 * state after HELLO. Anything out of order is a protocol violation: the child exits with
 * status 2, and the parent restarts it. EOF from the parent, or SIGTERM, ends it with 0.
 */
#ifndef ADC_PROTO_CHILD_H
#define ADC_PROTO_CHILD_H

#include <stdbool.h>
#include <uv.h>

#include "proto.h"
#include "proto_chan.h"

/* The flags dispatcherd passes to a child (dispatcher.c dispatcher_child_args). */
struct pchild_args {
	const char *driver; /* cloudd only */
	const char *cluster_id;
	const char *log_format, *log_level;
	const char *user;
	bool insecure_no_sandbox;
	bool require_landlock; /* -require-landlock: a kernel without Landlock is fatal */
	/* sshd-pool only, not passed by dispatcherd (tests shorten the waits with them):
	 * -keepalive-interval, -keepalive-timeout as durations ("2s"); NULL: the defaults. */
	const char *keepalive_interval, *keepalive_timeout;
};

/* 0, or 2 after a message on stderr. */
int pchild_parse_args(int argc, char **argv, struct pchild_args *a);

/* Set up logging from the args: the process name, format and level. */
void pchild_log_init(const char *proc, const struct pchild_args *a);

struct pchild_ops {
	const char *name; /* HELLO role: "cloudd", "sshd-pool" */
	enum proto_role role;
	uint16_t init_type; /* CLOUD_INIT_REQ, SSH_INIT_REQ */
	/* Handle the init request; build the answer into ans (begun and ended by the callee).
	 * m->fd, if >= 0, belongs to the callee. Return 0 when initialised; non-zero: the
	 * answer is still sent and init may be tried again. */
	int (*on_init)(const struct proto_msg *m, struct proto_wbuf *ans, void *arg);
	/* A request of the role after init. m->fd, if >= 0, belongs to the callee. */
	void (*on_request)(struct proto_chan *ch, const struct proto_msg *m, void *arg);
	void *arg;
};

/* Serve the parent channel on fd until EOF, a violation or SIGTERM. Returns the exit
 * status (0 on EOF/SIGTERM, 2 on a violation). */
int pchild_serve(uv_loop_t *loop, int fd, const struct pchild_ops *ops);

#endif
