/*
 * sess_limits.c - the session pool's three limits and their FIFO queues (docs/SSHPOOL.md,
 * "Probes at scale"):
 *
 *   max_conns       connections holding descriptors; beyond it a session waits to connect
 *                   (pool->waiting, SS_WAITING);
 *   max_pending     sessions connected and not yet in their handshake (SS_BANNER, SS_SLOT);
 *                   a session whose connect completes beyond it is parked (pool->parkq,
 *                   SS_PARKED: its socket unread, no libssh session yet), and no new connect
 *                   starts while any is parked;
 *   max_connecting  key exchanges + authentications in flight (SS_HANDSHAKE, SS_AUTH); a session
 *                   whose banner arrived beyond it waits for a slot (pool->slotq, SS_SLOT).
 *
 * A TCP connect in flight counts against none but the first: an address that drops SYNs waits
 * out its connect timeout beside the reachable workers. max_pending bounds what thousands of
 * slow servers can hold here (a libssh session each) and how many servers are made to start
 * their side of a connection at once; without it, 1,000 co-located dropbear servers started
 * their key exchanges together and the 32 handshakes in flight each waited for a starved server.
 *
 * Everything that lets a queued session go on kicks it (a zero timer), so its next step runs
 * from the loop, never from inside another session's code.
 */
#include "sess_internal.h"

bool
sess_must_wait(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (p->conns < p->o.max_conns && TAILQ_EMPTY(&p->parkq))
		return false;
	if (!s->waiting) {
		TAILQ_INSERT_TAIL(&p->waiting, s, wait_link);
		s->waiting = true;
		p->st.conn_waits++;
	}
	s->st = SS_WAITING;
	return true;
}

/* Sessions waiting to connect, oldest first, go on as descriptors free up and nothing is parked. */
void
sess_admit_waiting(struct sess_pool *p)
{
	struct sess *next;
	unsigned room = p->conns < p->o.max_conns ? p->o.max_conns - p->conns : 0;

	if (!TAILQ_EMPTY(&p->parkq))
		return;
	/* Each kicked session takes its connection on the loop's next turn: admit no more than
	 * the room now, the rest stay queued in order. */
	while (room > 0 && (next = TAILQ_FIRST(&p->waiting)) != NULL) {
		TAILQ_REMOVE(&p->waiting, next, wait_link);
		next->waiting = false;
		next->st = SS_IDLE;
		sess_kick(next);
		room--;
	}
}

void
sess_pending_enter(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (s->pending)
		return;
	s->pending = true;
	if (++p->pending > p->st.pending_peak)
		p->st.pending_peak = p->pending;
}

bool
sess_park_if_full(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (p->pending < p->o.max_pending && TAILQ_EMPTY(&p->parkq))
		return false;
	TAILQ_INSERT_TAIL(&p->parkq, s, wait_link);
	s->parked = true;
	p->st.parks++;
	s->st = SS_PARKED;
	uv_timer_stop(&s->timer); /* the wait is ours: the deadline restarts when it goes on */
	return true;
}

/* Room under max_pending: parked sessions go on, oldest first (counted now, so that no more
 * than the room goes); once none is parked, new connects may start again. */
static void
sess_unpark(struct sess_pool *p)
{
	struct sess *next;

	while (p->pending < p->o.max_pending && (next = TAILQ_FIRST(&p->parkq)) != NULL) {
		TAILQ_REMOVE(&p->parkq, next, wait_link);
		next->parked = false;
		sess_pending_enter(next);
		sess_kick(next); /* sess_banner_wait from the loop */
	}
	if (TAILQ_EMPTY(&p->parkq))
		sess_admit_waiting(p);
}

static void
sess_pending_leave(struct sess *s)
{
	if (!s->pending)
		return;
	s->pending = false;
	s->pool->pending--;
	sess_unpark(s->pool);
}

/* Take a handshake slot. restart: the setup deadline counts again from here (the session waited
 * in the queue, and the wait was ours, not the worker's). */
static void
sess_slot_grant(struct sess *s, bool restart)
{
	struct sess_pool *p = s->pool;

	s->has_slot = true;
	if (++p->connecting > p->st.handshakes_peak)
		p->st.handshakes_peak = p->connecting;
	s->st = SS_HANDSHAKE;
	if (restart)
		sess_setup_deadline(s);
	sess_pending_leave(s);
}

/* The server's first bytes (or its EOF) arrived: key exchange now, or queue for a slot. */
void
sess_slot_want(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (p->connecting < p->o.max_connecting && TAILQ_EMPTY(&p->slotq)) {
		sess_slot_grant(s, false);
		return;
	}
	TAILQ_INSERT_TAIL(&p->slotq, s, wait_link);
	s->slot_waiting = true;
	p->st.slot_waits++;
	s->st = SS_SLOT;
	uv_timer_stop(&s->timer);
}

void
sess_release_slot(struct sess *s)
{
	struct sess_pool *p = s->pool;
	struct sess *next;

	if (s->waiting) {
		TAILQ_REMOVE(&p->waiting, s, wait_link);
		s->waiting = false;
	}
	if (s->slot_waiting) {
		TAILQ_REMOVE(&p->slotq, s, wait_link);
		s->slot_waiting = false;
	}
	if (s->parked) {
		TAILQ_REMOVE(&p->parkq, s, wait_link);
		s->parked = false;
		if (TAILQ_EMPTY(&p->parkq))
			sess_admit_waiting(p);
	}
	sess_pending_leave(s);
	if (!s->has_slot)
		return;
	s->has_slot = false;
	p->connecting--;
	while ((next = TAILQ_FIRST(&p->slotq)) != NULL && p->connecting < p->o.max_connecting) {
		TAILQ_REMOVE(&p->slotq, next, wait_link);
		next->slot_waiting = false;
		sess_slot_grant(next, true);
		sess_kick(next); /* its key exchange starts from the loop, not from here */
	}
}
