/*
 * child.h - dispatcherd's supervision of one helper process (cloudd or sshd-pool).
 *
 * Life of a child: spawn (fork+exec of its own binary, the socketpair on fd 3) -> HELLO
 * (protocol version and build id must match) -> init (its secret rides as an fd) -> ready
 * (pinged every 10 s). Any failure on the way, a protocol violation, a missed ping or the
 * process dying: the child is killed if still alive, every in-flight request fails with
 * PROTO_E_RETRY (proto_chan does this), and it is started again after a back-off that
 * doubles from 1 s to 60 s (reset once a child has stayed ready for 60 s).
 *
 * An init refused for a reason a restart will not change (the helper answers
 * PROTO_E_PERMANENT, and check_init returns CHILD_INIT_PERMANENT) is not retried: its reason
 * is logged as one fatal line, the child is told to go (EOF), is never restarted (state
 * CHILD_FAILED), and on_fatal is called so that the owner stops with exit status 1, as the
 * reference stops on "error initializing driver" or a DispatchPrivateKey that does not parse.
 */
#ifndef ADC_CHILD_H
#define ADC_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "proto.h"
#include "proto_chan.h"

struct child;

struct child_spec {
	const char *name; /* "cloudd", "sshd-pool": logs and HELLO role */
	enum proto_role role;
	const char *path;	 /* the executable */
	const char *const *args; /* extra argv after the program name, NULL-terminated */
	int secret_fd;		 /* sent (dup'ed) with every init; -1 none; owned by the child */
	/* Build the init request into w (begun and ended). 0 or -errno. */
	int (*build_init)(struct child *c, struct proto_wbuf *w, void *arg);
	/* Check the init answer; 0 = ready, CHILD_INIT_PERMANENT = refused for good (why is the
	 * fatal line's message), <0 = a reason is logged and the child restarted. */
	int (*check_init)(struct child *c, const struct proto_msg *m, char *why, size_t whylen,
			  void *arg);
	void (*on_ready)(struct child *c, void *arg); /* may be NULL */
	void (*on_down)(struct child *c, void *arg);  /* may be NULL */
	void (*on_fatal)(struct child *c, void *arg); /* init refused for good; may be NULL */
	void *arg;
	/* The liveness ping's period and answer deadline; 0: 10 s and 5 s (tests shorten them). */
	uint32_t ping_every_ms, ping_timeout_ms;
};

#define CHILD_INIT_PERMANENT 1 /* check_init: the helper refused its init for good */

/* CHILD_FAILED: its init was refused for good; it is not restarted. */
enum child_state { CHILD_DOWN = 0, CHILD_HELLO, CHILD_INIT, CHILD_READY, CHILD_FAILED };

/* Start supervising; the first spawn happens at once. NULL on allocation failure. */
struct child *child_new(uv_loop_t *loop, const struct child_spec *spec);

/* Stop: close the channel (the child exits on EOF), SIGKILL after grace_ms, no restart.
 * done() is called once the process is gone and every handle is closed; the child is
 * freed after that. */
void child_stop(struct child *c, uint64_t grace_ms, void (*done)(void *arg), void *arg);

enum child_state child_state(const struct child *c);
pid_t child_pid(const struct child *c);		      /* 0 when no process */
unsigned child_starts(const struct child *c);	      /* how many times it was spawned */
struct proto_chan *child_chan(const struct child *c); /* NULL unless ready */
const char *child_name(const struct child *c);

#endif
