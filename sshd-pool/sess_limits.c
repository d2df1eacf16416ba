/*
 * sess_limits.c - the session pool's limits and their FIFO queues (docs/SSHPOOL.md, "Probes at
 * scale"):
 *
 *   max_conns       connections holding descriptors;
 *   connect_burst   TCP connects started per SESS_PACE_MS;
 *   max_connecting  key exchanges + authentications in flight (SS_HANDSHAKE, SS_AUTH), the only
 *                   sessions with a libssh session before they are ready.
 *
 * A session starts its TCP connect only with room under the first two, else it waits in
 * pool->waiting (SS_WAITING, FIFO); once its server's banner arrives it takes a handshake slot,
 * else it waits in pool->slotq (SS_SLOT, FIFO). Between its TCP connect and its handshake a
 * session holds a descriptor and a timer, nothing more (no libssh session, its socket unread
 * in SS_SLOT), and counts against no limit but the descriptor budget: an address that drops
 * SYNs, a server that accepts and never speaks, or thousands of servers waiting for a slot cost
 * a descriptor each (bounded by max_conns) and ~100 bytes here, and never stand in the way of a
 * reachable worker. A cap on their number was tried (646741c, then a cap on the slot queue):
 * servers that accept and stay silent, or a slot queue full of good workers, then held back
 * every new connect, and refused workers timed out behind them instead of failing at once.
 * The pace keeps 10,000 workers asked at once from making 10,000 servers start their side in
 * one loop turn.
 *
 * Everything that lets a queued session go on kicks it (a zero timer), so its next step runs
 * from the loop, never from inside another session's code. An admitted session is counted
 * against every limit from its admission (nadmitted, pace_starts), so admissions made in one loop
 * turn never exceed the room.
 */
#include "sess_internal.h"

static void
sess_pace_closed(uv_handle_t *h)
{
	sess_pool_unref(h->data);
}

static void
sess_pace_cb(uv_timer_t *t)
{
	sess_admit_waiting(t->data);
}

void
sess_limits_init(struct sess_pool *p)
{
	uv_timer_init(p->loop, &p->pace); /* cannot fail on unix */
	p->pace.data = p;
	p->live++; /* released by its close callback */
	p->pace_start = uv_now(p->loop);
}

void
sess_limits_fini(struct sess_pool *p)
{
	uv_close((uv_handle_t *)&p->pace, sess_pace_closed);
}

/* A new pace window once the last one has passed. */
static void
sess_pace_window(struct sess_pool *p)
{
	uint64_t now = uv_now(p->loop);

	if (now - p->pace_start >= SESS_PACE_MS) {
		p->pace_start = now;
		p->pace_starts = 0;
	}
}

/* How many more connects may start now. */
static unsigned
sess_room(const struct sess_pool *p)
{
	const struct sess_opts *o = &p->o;
	unsigned used = p->conns + p->nadmitted;

	unsigned conns = o->max_conns > used ? o->max_conns - used : 0;
	unsigned pace = o->connect_burst > p->pace_starts ? o->connect_burst - p->pace_starts : 0;

	return conns < pace ? conns : pace;
}

/* Something waits: look again when this pace window ends (a connection closing admits too). */
static void
sess_pace_arm(struct sess_pool *p)
{
	uint64_t now = uv_now(p->loop), end = p->pace_start + SESS_PACE_MS;

	if (p->freeing || uv_is_active((uv_handle_t *)&p->pace))
		return;
	uv_timer_start(&p->pace, sess_pace_cb, end > now ? end - now : 1, 0);
}

bool
sess_must_wait(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (s->admitted) { /* counted at its admission */
		s->admitted = false;
		p->nadmitted--;
		return false;
	}
	sess_pace_window(p);
	if (TAILQ_EMPTY(&p->waiting) && sess_room(p) > 0) {
		p->pace_starts++;
		return false;
	}
	if (!s->waiting) {
		TAILQ_INSERT_TAIL(&p->waiting, s, wait_link);
		s->waiting = true;
		p->st.conn_waits++;
	}
	s->st = SS_WAITING;
	sess_pace_arm(p);
	return true;
}

/* Sessions waiting to connect, oldest first, go on as far as the room goes. */
void
sess_admit_waiting(struct sess_pool *p)
{
	struct sess *next;
	unsigned room;

	if (p->freeing)
		return;
	sess_pace_window(p);
	for (room = sess_room(p); room > 0 && (next = TAILQ_FIRST(&p->waiting)) != NULL; room--) {
		TAILQ_REMOVE(&p->waiting, next, wait_link);
		next->waiting = false;
		next->admitted = true;
		p->nadmitted++;
		p->pace_starts++;
		next->st = SS_IDLE;
		sess_kick(next); /* its connect starts from the loop */
	}
	if (!TAILQ_EMPTY(&p->waiting))
		sess_pace_arm(p);
}

void
sess_admission_drop(struct sess *s)
{
	if (!s->admitted)
		return;
	s->admitted = false;
	s->pool->nadmitted--;
	sess_admit_waiting(s->pool);
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
}

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
	if (++p->nslot > p->st.slot_queued_peak)
		p->st.slot_queued_peak = p->nslot;
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
	if (s->admitted) {
		s->admitted = false;
		p->nadmitted--;
	}
	if (s->slot_waiting) {
		TAILQ_REMOVE(&p->slotq, s, wait_link);
		s->slot_waiting = false;
		p->nslot--;
	}
	if (s->has_slot) {
		s->has_slot = false;
		p->connecting--;
		while ((next = TAILQ_FIRST(&p->slotq)) != NULL &&
		       p->connecting < p->o.max_connecting) {
			TAILQ_REMOVE(&p->slotq, next, wait_link);
			next->slot_waiting = false;
			p->nslot--;
			sess_slot_grant(next, true);
			sess_kick(next); /* its key exchange starts from the loop, not from here */
		}
	}
}
