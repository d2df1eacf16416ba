/* sess_internal.h - the structures shared by sess.c (connections), sess_table.c (the sessions) and
 * sess_cmd.c (channels). */
#ifndef ADC_SESS_INTERNAL_H
#define ADC_SESS_INTERNAL_H

#include <sys/queue.h>

#include <libssh/callbacks.h>

#include "sess.h"

/* SS_WAITING: to start its TCP connect (sess_limits.c: the descriptor budget max_conns, or the
 * connect pace connect_burst); SS_TCP: non-blocking connect in flight; SS_BANNER: connected,
 * waiting for the server's first bytes; SS_SLOT: they arrived, waiting for a handshake slot
 * (max_connecting). None of these has a libssh session yet: it is made with the slot. Only SS_HANDSHAKE and SS_AUTH
 * hold a slot: an address that drops packets, or a server that accepts and stays silent, costs
 * a descriptor and a timer, never one of the few key exchanges in flight. */
enum sess_st {
	SS_IDLE = 0,
	SS_WAITING,
	SS_TCP,
	SS_BANNER,
	SS_SLOT,
	SS_HANDSHAKE,
	SS_AUTH,
	SS_READY
};
enum sess_cmd_st { SC_QUEUED = 0, SC_OPENING, SC_EXEC, SC_IO, SC_FINISHED };

struct sess_cmd;
TAILQ_HEAD(sess_cmdq, sess_cmd);

struct sess_cmd {
	struct sess *s;
	TAILQ_ENTRY(sess_cmd) link;
	struct sess_cmdq *where; /* the list holding it, NULL when none */
	enum sess_cmd_st st;
	char *command;
	uint8_t *in;	       /* stdin bytes (owned) */
	size_t in_len, in_off; /* in_off: bytes of in sent, or with in_fd the file offset read */
	int in_fd;	       /* stdin file (owned dup, read by pread only), -1 if none */
	uint8_t *chunk;	       /* bytes read from in_fd not yet accepted by the channel */
	size_t chunk_len, chunk_off;
	bool in_done; /* every stdin byte was written */
	uint64_t timeout_ms;
	unsigned flags;
	sess_done_cb cb;
	void *arg;
	uv_timer_t timer;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cbs;
	bool eof_sent, got_eof, got_close, got_exit, retried;
	size_t out_cap, err_cap;
	struct sess_result res;
};

/* One TCP+SSH connection. Outlives its session while its uv_poll_t closes. */
struct sess_conn {
	struct sess *s; /* NULL once dropped */
	struct sess_pool *pool;
	uv_poll_t poll;
	int fd; /* watched by poll; closed in the close callback */
	ssh_session ssh;
	ssh_event ev; /* set once authenticated: the general packet pump */
	char *host_key;
	ssh_channel ka; /* outstanding keep-alive probe */
};

struct sess {
	struct sess_pool *pool;
	TAILQ_ENTRY(sess) link;
	TAILQ_ENTRY(sess) wait_link;
	struct sess *hnext; /* the pool's id hash chain */
	bool waiting;	    /* on pool->waiting (for the descriptor budget) */
	bool slot_waiting;  /* on pool->slotq (for a handshake slot) */
	bool admitted;	    /* taken off pool->waiting, counted, its connect not started yet */
	bool has_slot, closing;
	char *id, *address, *user;
	int port;
	ssh_key pin;
	char *pin_line;
	enum sess_st st;
	struct sess_conn *conn;
	/* The connection setup deadline while connecting; once ready, the keep-alive interval,
	 * then the keep-alive probe's deadline. One timer for both (their states are disjoint),
	 * and the kicks through the pool's queue: at 10,000 workers each uv_timer_t is 1.5 MB. */
	uv_timer_t timer;
	TAILQ_ENTRY(sess) kick_link; /* on pool->kickq while kick_queued */
	bool kick_queued;
	int handles;	  /* open timers; freed at 0 once closing */
	char *last_error; /* the last setup or connection failure, or NULL */
	struct sess_cmdq queue, active, done;
	unsigned nactive;
	struct sess_stats stats;
	void *udata;
	void (*ufree)(void *);
};

TAILQ_HEAD(sess_list, sess);

struct sess_pool {
	uv_loop_t *loop;
	struct sess_opts o;
	struct sess_list sessions;
	struct sess **hash; /* by instance id: sshd-pool looks a session up per request */
	size_t hash_size, nsessions;
	struct sess_list waiting; /* SS_WAITING, oldest first */
	struct sess_list slotq;	  /* SS_SLOT, oldest first */
	unsigned nslot;		  /* on slotq: spoke, waiting for a handshake slot */
	unsigned nssh;		  /* libssh sessions alive */
	unsigned nadmitted;	  /* admitted from waiting, connect not started yet */
	uv_timer_t pace;	  /* admits waiting sessions when the pace window ends */
	struct sess_list kickq;	  /* sessions whose pump runs from the loop (sess_kick) */
	unsigned nkick;
	uv_timer_t kick;      /* runs them */
	uint64_t pace_start;  /* this pace window's start (uv_now) */
	unsigned pace_starts; /* connects started in it (<= o.connect_burst) */
	unsigned connecting;  /* handshake slots in use (<= o.max_connecting) */
	unsigned conns;	      /* connections holding descriptors (<= o.max_conns) */
	struct sess_pool_stats st;
	unsigned live; /* sessions, connections and commands not yet freed */
	bool freeing;
};

/* sess.c */
void sess_kick(struct sess *s);	       /* run its pump from the loop, never from an API call */
void sess_kick_cancel(struct sess *s); /* it closes: off the pool's kick queue */
void sess_set_error(struct sess *s, const char *why); /* the last failure's text */
bool sess_conn_dead(const struct sess_conn *c);
void sess_pool_unref(struct sess_pool *p);
void sess_conn_close(struct sess *s);
void sess_setup_deadline(struct sess *s); /* (re)start the connection setup deadline */
char *sess_key_line(ssh_key k);		  /* "type base64", malloc'd; NULL on ENOMEM */
/* sess_limits.c: the pool-wide limits and their FIFO queues */
void sess_limits_init(struct sess_pool *p); /* the pace timer (holds a pool reference) */
void sess_limits_fini(struct sess_pool *p); /* closes it */
bool sess_must_wait(struct sess *s);	    /* no connect now: queued (SS_WAITING) */
void sess_admit_waiting(struct sess_pool *p);
void sess_admission_drop(struct sess *s); /* admitted, but it will not connect now */
void sess_slot_want(struct sess *s);	  /* the banner arrived: a handshake slot, or queue */
void sess_release_slot(struct sess *s);	  /* leave every queue and give back what it held */
/* sess_table.c */
void sess_hash_free(struct sess_pool *p);
void sess_handle_closed(struct sess *s); /* a timer of its own or of a command; frees at 0 */
/* sess_cmd.c */
void sess_cmd_move(struct sess_cmd *c, struct sess_cmdq *q);
int sess_cmd_begin(struct sess_cmd *c); /* on a ready connection: new channel */
void sess_cmd_step(struct sess_cmd *c); /* advance open/exec/stdin; complete when done */
void sess_cmd_fail(struct sess_cmd *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append a worker's output chunk to a bounded buffer (kept NUL-terminated); excess is dropped
 * and flagged in *trunc (tests/sshpool/fuzz_sshpool_answer.c). */
void sess_cmd_keep(uint8_t **buf, size_t *len, size_t *cap, bool *trunc, size_t max,
		   const uint8_t *data, size_t n);
void sess_cmd_detach(struct sess_cmd *c); /* forget the channel (connection going away) */
void sess_drain_done(struct sess *s);
void sess_fail_all(struct sess *s, struct sess_cmdq *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
