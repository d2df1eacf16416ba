/*
 * sess_table.c - the pool's sessions, one per instance: get (create or reuse), find, close,
 * the pinned host key, and the accessors. The connection state machine is sess.c's, the
 * commands sess_cmd.c's.
 */
#include "sess_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "util.h"

/* ---- the id hash: every request names its worker by instance id; a list scan was 10,000
 * string compares per request at 10,000 workers --------------------------------------------- */

static size_t
sess_hash_str(const char *id, size_t size)
{
	return (size_t)(adc_fnv1a(ADC_FNV1A_INIT, id, strlen(id)) & (size - 1));
}

static int
sess_hash_grow(struct sess_pool *p)
{
	size_t size = p->hash_size ? p->hash_size * 2 : 64;
	struct sess **h = calloc(size, sizeof(*h));

	if (h == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < p->hash_size; i++)
		for (struct sess *s = p->hash[i], *next; s != NULL; s = next) {
			size_t k = sess_hash_str(s->id, size);

			next = s->hnext;
			s->hnext = h[k];
			h[k] = s;
		}
	free(p->hash);
	p->hash = h;
	p->hash_size = size;
	return 0;
}

static void
sess_hash_remove(struct sess *s)
{
	struct sess_pool *p = s->pool;
	struct sess **pp = &p->hash[sess_hash_str(s->id, p->hash_size)];

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp == s)
		*pp = s->hnext;
	p->nsessions--;
}

void
sess_hash_free(struct sess_pool *p)
{
	free(p->hash);
	p->hash = NULL;
	p->hash_size = 0;
}

/* ---- sessions ----------------------------------------------------------------------------- */

/* One of the session's handles closed: its timer, or a command's timer. Whichever closes
 * last frees the session. libuv runs close callbacks newest first, so when sess_close fails
 * queued commands and closes their timers before its own, a command's timer is the last: when
 * only the session's timers freed it, that session and its pool leaked (LeakSanitizer in
 * sshpool_rig's t_unreachable_first, whose 20 sessions still had commands queued). */
void
sess_handle_closed(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (--s->handles > 0)
		return;
	if (s->ufree != NULL)
		s->ufree(s->udata);
	ssh_key_free(s->pin);
	free(s->pin_line);
	free(s->last_error);
	free(s->id);
	free(s->address);
	free(s->user);
	free(s);
	sess_pool_unref(p);
}

static void
sess_timer_closed(uv_handle_t *h)
{
	sess_handle_closed(h->data);
}

void
sess_close(struct sess *s)
{
	if (s == NULL || s->closing)
		return;
	s->closing = true;
	TAILQ_REMOVE(&s->pool->sessions, s, link);
	sess_hash_remove(s);
	sess_fail_all(s, &s->queue, -ECANCELED, "session to %s:%d closed", s->address, s->port);
	sess_fail_all(s, &s->active, -ECANCELED, "session to %s:%d closed", s->address, s->port);
	sess_conn_close(s);
	sess_release_slot(s);
	sess_drain_done(s);
	sess_kick_cancel(s);
	uv_close((uv_handle_t *)&s->timer, sess_timer_closed);
}

struct sess *
sess_find(struct sess_pool *p, const char *instance_id)
{
	if (p->hash == NULL)
		return NULL;
	for (struct sess *s = p->hash[sess_hash_str(instance_id, p->hash_size)]; s != NULL;
	     s = s->hnext)
		if (strcmp(s->id, instance_id) == 0)
			return s;
	return NULL;
}

int
sess_get(struct sess_pool *p, const char *instance_id, const char *address, int port,
	 const char *user, struct sess **out)
{
	struct sess *s;

	*out = NULL;
	if (instance_id == NULL || instance_id[0] == '\0' || strlen(instance_id) > 256 ||
	    !quote_valid_address(address) || port < 1 || port > 65535 || !quote_valid_user(user))
		return -EINVAL;
	if ((s = sess_find(p, instance_id)) != NULL) {
		if (strcmp(s->address, address) == 0 && s->port == port &&
		    strcmp(s->user, user) == 0) {
			*out = s;
			return 0;
		}
		sess_close(s);
	}
	if (p->nsessions >= p->hash_size && sess_hash_grow(p) != 0)
		return -ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->id = strdup(instance_id);
	s->address = strdup(address);
	s->user = strdup(user);
	if (s->id == NULL || s->address == NULL || s->user == NULL) {
		free(s->id), free(s->address), free(s->user), free(s);
		return -ENOMEM;
	}
	s->pool = p;
	s->port = port;
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->active);
	TAILQ_INIT(&s->done);
	uv_timer_init(p->loop, &s->timer);
	s->timer.data = s;
	s->handles = 1;
	p->live++;
	TAILQ_INSERT_TAIL(&p->sessions, s, link);
	{
		size_t k = sess_hash_str(s->id, p->hash_size);

		s->hnext = p->hash[k];
		p->hash[k] = s;
		p->nsessions++;
	}
	*out = s;
	return 0;
}

int
sess_pin(struct sess *s, const char *key_line)
{
	const char *sp = key_line ? strchr(key_line, ' ') : NULL;
	char type[64];
	ssh_key k = NULL;
	char *line;

	if (sp == NULL || (size_t)(sp - key_line) >= sizeof(type))
		return -EINVAL;
	memcpy(type, key_line, (size_t)(sp - key_line));
	type[sp - key_line] = '\0';
	if (ssh_pki_import_pubkey_base64(sp + 1, ssh_key_type_from_name(type), &k) != SSH_OK)
		return -EINVAL;
	if ((line = sess_key_line(k)) == NULL) {
		ssh_key_free(k);
		return -ENOMEM;
	}
	ssh_key_free(s->pin);
	free(s->pin_line);
	s->pin = k;
	s->pin_line = line;
	if (s->conn != NULL && s->conn->host_key != NULL && strcmp(s->conn->host_key, line) != 0)
		sess_drop(s, "the pinned host key differs from this connection's");
	return 0;
}

const char *
sess_pinned(const struct sess *s)
{
	return s->pin_line;
}
const char *
sess_user(const struct sess *s)
{
	return s->user;
}
const char *
sess_instance(const struct sess *s)
{
	return s->id;
}
void *
sess_userdata(const struct sess *s)
{
	return s->udata;
}

void
sess_set_userdata(struct sess *s, void *data, void (*free_fn)(void *))
{
	if (s->ufree != NULL && s->udata != data)
		s->ufree(s->udata);
	s->udata = data;
	s->ufree = free_fn;
}

void
sess_get_stats(const struct sess *s, struct sess_stats *st)
{
	*st = s->stats;
}
