/* pool_worker.c - worker records: lookup by instance ID, add/remove, references, names. */
#include "pool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const state_names[] = { "unknown", "booting", "idle", "running", "shutdown" };
static const char *const idle_names[] = { "run", "hold", "drain" };

const char *
pool_state_name(enum sched_wstate s)
{
	return (unsigned)s < 5 ? state_names[s] : "unknown";
}

const char *
pool_idle_name(enum sched_idle b)
{
	return (unsigned)b < 3 ? idle_names[b] : "run";
}

int
pool_idle_parse(const char *s, enum sched_idle *b)
{
	for (int i = 0; s && i < 3; i++) {
		if (strcmp(s, idle_names[i]) == 0) {
			*b = (enum sched_idle)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* FNV-1a: instance IDs are short and not attacker-chosen (they come from our cloud). */
static size_t
pool_hash_str(const char *s, size_t size)
{
	return (size_t)(adc_fnv1a(ADC_FNV1A_INIT, s, strlen(s)) & (size - 1));
}

struct pool_worker *
pool_worker_find(const struct pool *p, const char *id)
{
	if (!p->hash || !id)
		return NULL;
	for (struct pool_worker *w = p->hash[pool_hash_str(id, p->hash_size)]; w; w = w->hnext)
		if (strcmp(w->id, id) == 0)
			return w;
	return NULL;
}

static int
pool_hash_grow(struct pool *p)
{
	size_t size = p->hash_size ? p->hash_size * 2 : 64;
	struct pool_worker **h = calloc(size, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_workers; i++) {
		struct pool_worker *w = p->workers[i];
		size_t b = pool_hash_str(w->id, size);

		w->hnext = h[b];
		h[b] = w;
	}
	free(p->hash);
	p->hash = h;
	p->hash_size = size;
	return 0;
}

/* A new worker (state unknown, behaviour run, no instance data yet); NULL on ENOMEM. */
struct pool_worker *
pool_worker_add(struct pool *p, const char *id)
{
	struct pool_worker *w;

	if (p->n_workers == p->cap_workers) {
		size_t cap = p->cap_workers ? p->cap_workers * 2 : 16;
		struct pool_worker **a = realloc(p->workers, cap * sizeof(*a));

		if (!a)
			return NULL;
		p->workers = a;
		p->cap_workers = cap;
	}
	if (p->n_workers + 1 > p->hash_size && pool_hash_grow(p) < 0)
		return NULL;
	if (!(w = calloc(1, sizeof(*w))) || !(w->id = strdup(id))) {
		free(w);
		return NULL;
	}
	w->p = p;
	w->refs = 1; /* the pool's own reference */
	w->idx = p->n_workers;
	p->workers[p->n_workers++] = w;
	size_t b = pool_hash_str(id, p->hash_size);
	w->hnext = p->hash[b];
	p->hash[b] = w;
	return w;
}

static void
pool_worker_free_instance(struct pool_worker *w)
{
	free(w->tag_k); /* the tags' block (pool_tags_pack) */
	free(w->prices);
	free(w->address);
	free(w->user);
	free(w->host_key);
	adc_free_secret_str(w->secret);
	w->tag_k = w->tag_v = NULL;
	w->prices = NULL;
	w->address = w->user = w->secret = w->host_key = NULL;
	w->n_tags = w->n_prices = 0;
}

static char *
pool_dup(const char *s)
{
	return strdup(s ? s : "");
}

/* The tags in one block: the key pointers, the value pointers, then the strings. One malloc
 * instead of 2 n + 2 (issue 16: at 10,000 workers of 5 tags, about 2 MB of malloc headers and
 * rounding). 0 or -ENOMEM. */
static int
pool_tags_pack(struct pool_worker *n, const struct pool_instance *inst)
{
	size_t k = inst->n_tags, sz = 2 * (k + 1) * sizeof(char *);
	char **b, *s;

	for (size_t i = 0; i < k; i++)
		sz += strlen(inst->tags[i].key ? inst->tags[i].key : "") +
		      strlen(inst->tags[i].value ? inst->tags[i].value : "") + 2;
	if ((b = malloc(sz)) == NULL)
		return -ENOMEM;
	n->tag_k = b;
	n->tag_v = b + k + 1;
	s = (char *)(b + 2 * (k + 1));
	for (size_t i = 0; i < k; i++) {
		n->tag_k[i] = s;
		s = stpcpy(s, inst->tags[i].key ? inst->tags[i].key : "") + 1;
		n->tag_v[i] = s;
		s = stpcpy(s, inst->tags[i].value ? inst->tags[i].value : "") + 1;
	}
	n->tag_k[k] = n->tag_v[k] = NULL;
	n->n_tags = k;
	return 0;
}

static bool
pool_same_str(const char *kept, const char *s)
{
	return kept != NULL && strcmp(kept, s ? s : "") == 0;
}

/* Whether the instance data kept for w is what inst says (the usual case on every sync). */
static bool
pool_worker_same_instance(const struct pool_worker *w, const struct pool_instance *inst,
			  const char *secret)
{
	bool hk = inst->host_key != NULL && inst->host_key[0] != '\0';

	if (!pool_same_str(w->address, inst->address) ||
	    !pool_same_str(w->user, inst->remote_user) || (w->secret == NULL) != (secret == NULL) ||
	    (secret != NULL && strcmp(w->secret, secret) != 0) || (w->host_key != NULL) != hk ||
	    (hk && strcmp(w->host_key, inst->host_key) != 0) || w->n_tags != inst->n_tags ||
	    w->n_prices != inst->n_prices ||
	    (inst->n_prices > 0 &&
	     memcmp(w->prices, inst->prices, inst->n_prices * sizeof(*w->prices)) != 0))
		return false;
	for (size_t i = 0; i < inst->n_tags; i++)
		if (!pool_same_str(w->tag_k[i], inst->tags[i].key) ||
		    !pool_same_str(w->tag_v[i], inst->tags[i].value))
			return false;
	return true;
}

/* Replace the instance data (address, user, tags, prices, secret tag). 0 or -ENOMEM.
 * Unchanged data is kept as it is: at 10,000 instances a sync replaced some 140,000 small
 * blocks every SyncInterval, churn that left the heap fragmented (issue 16). */
int
pool_worker_set_instance(struct pool_worker *w, const struct pool_instance *inst)
{
	struct pool *p = w->p;
	const char *secret = pool_tag_get(inst, p->key_secret);
	struct pool_worker n = { 0 };
	int ok = 1;

	if (pool_worker_same_instance(w, inst, secret))
		return 0;

	n.address = pool_dup(inst->address);
	n.user = pool_dup(inst->remote_user);
	n.secret = secret ? strdup(secret) : NULL;
	n.host_key = inst->host_key && inst->host_key[0] ? strdup(inst->host_key) : NULL;
	n.prices = inst->n_prices ? malloc(inst->n_prices * sizeof(*n.prices)) : NULL;
	ok = n.address && n.user && (n.secret || !secret) &&
	     (n.host_key || !inst->host_key || !inst->host_key[0]) &&
	     (n.prices || !inst->n_prices) && pool_tags_pack(&n, inst) == 0;
	if (ok && inst->n_prices)
		memcpy(n.prices, inst->prices, inst->n_prices * sizeof(*n.prices));
	n.n_prices = inst->n_prices;
	if (!ok) {
		pool_worker_free_instance(&n); /* what was allocated (NULLs are fine) */
		return -ENOMEM;
	}
	if (w->address && strcmp(w->address, n.address) != 0)
		w->verified = false; /* a new address needs a new verified session */
	if ((w->host_key == NULL) != (n.host_key == NULL) ||
	    (w->host_key && strcmp(w->host_key, n.host_key) != 0))
		w->verified = false; /* so does another host key */
	pool_worker_free_instance(w);
	w->address = n.address;
	w->user = n.user;
	w->secret = n.secret;
	w->host_key = n.host_key;
	w->tag_k = n.tag_k;
	w->tag_v = n.tag_v;
	w->n_tags = n.n_tags;
	w->prices = n.prices;
	w->n_prices = n.n_prices;
	return 0;
}

void
pool_worker_ref(struct pool_worker *w)
{
	w->refs++;
}

void
pool_worker_unref(struct pool_worker *w)
{
	if (--w->refs > 0)
		return;
	pool_worker_free_instance(w);
	free(w->run);
	free(w->spot_action);
	free(w->spot_time);
	free(w->type_name);
	free(w->id);
	free(w);
}

/* Take w out of the pool: its runners are abandoned and its session forgotten. */
void
pool_worker_remove(struct pool *p, struct pool_worker *w)
{
	struct pool_worker **pp = &p->hash[pool_hash_str(w->id, p->hash_size)];

	while (*pp && *pp != w)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = w->hnext;
	p->workers[w->idx] = p->workers[--p->n_workers];
	p->workers[w->idx]->idx = w->idx;
	w->removed = true;
	pool_runner_abandon_all(w);
	if (!p->closing)
		p->o.ssh.forget(p->o.ssh.ctx, w->id);
	pool_worker_unref(w);
}

/* At most one boot outcome per worker (section 8). */
void
pool_boot_outcome(struct pool_worker *w, const char *outcome)
{
	if (w->boot_reported)
		return;
	w->boot_reported = true;
	if (w->p->m_boot)
		metrics_add(w->p->m_boot, (const char *const[]){ outcome }, 1);
}
