/* sched_driver_input.c - the scheduler's views (struct sched_input) from the queue and the
 * pool, built fresh for each pass. Strings are copied into the driver's own buffers, so the
 * decisions stay valid while they are carried out (a pool call or queue_forget may free
 * what the pool's and the queue's arrays point to). */
#include "sched_driver_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"

#define SD_MS ((sched_time)1000000)

static enum sched_cstate
sd_state(enum queue_state s)
{
	switch (s) {
	case QST_QUEUED:
		return SCHED_QUEUED;
	case QST_LOCKED:
		return SCHED_LOCKED;
	case QST_RUNNING:
		return SCHED_RUNNING;
	case QST_COMPLETE:
		return SCHED_COMPLETE;
	case QST_CANCELLED:
		return SCHED_CANCELLED;
	default:
		return SCHED_CSTATE_OTHER;
	}
}

static int
sd_grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, c * size);
	if (n == NULL)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

struct sd_memo *
sd_memo_get(struct sched_driver *d, const char *uuid, bool create)
{
	for (size_t i = 0; i < d->n_memo; i++)
		if (strcmp(d->memo[i].uuid, uuid) == 0)
			return &d->memo[i];
	if (!create ||
	    sd_grow((void **)&d->memo, &d->cap_memo, d->n_memo + 1, sizeof(*d->memo)) != 0)
		return NULL;
	struct sd_memo *m = &d->memo[d->n_memo++];
	memset(m, 0, sizeof(*m));
	snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	return m;
}

/* Of a NUL-padded uuid buffer: a few multiplies instead of a walk over the characters. */
static uint64_t
sd_uuid_hash(const char *u)
{
	uint64_t w[QUEUE_UUID_MAX / 8], h = 0;

	memcpy(w, u, sizeof(w));
	for (size_t i = 0; i < QUEUE_UUID_MAX / 8; i++)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15u;
	return h ^ (h >> 31);
}

/* Drop memories of containers the queue no longer holds; index the rest. */
static int
sd_memo_prune(struct sched_driver *d)
{
	size_t j = 0, want = 16;

	for (size_t i = 0; i < d->n_memo; i++)
		if (queue_get(d->o.queue, d->memo[i].uuid) != NULL)
			d->memo[j++] = d->memo[i];
	d->n_memo = j;
	while (want < 2 * j)
		want *= 2;
	if (want != d->n_slot) {
		uint32_t *s = realloc(d->memo_slot, want * sizeof(*s));

		if (s == NULL)
			return -ENOMEM;
		d->memo_slot = s;
		d->n_slot = want;
	}
	memset(d->memo_slot, 0, d->n_slot * sizeof(*d->memo_slot));
	for (size_t i = 0; i < j; i++) {
		size_t k = sd_uuid_hash(d->memo[i].uuid) & (d->n_slot - 1);

		while (d->memo_slot[k] != 0)
			k = (k + 1) & (d->n_slot - 1);
		d->memo_slot[k] = (uint32_t)(i + 1);
	}
	return 0;
}

/* The memory of uuid (a NUL-padded buffer) as of the last prune, or NULL. */
static struct sd_memo *
sd_memo_find(struct sched_driver *d, const char *uuid)
{
	size_t k = sd_uuid_hash(uuid) & (d->n_slot - 1);

	for (; d->memo_slot[k] != 0; k = (k + 1) & (d->n_slot - 1)) {
		struct sd_memo *m = &d->memo[d->memo_slot[k] - 1];

		if (memcmp(m->uuid, uuid, QUEUE_UUID_MAX) == 0)
			return m;
	}
	return NULL;
}

/* Entries are asked for this many steps ahead of the walk (sd_input_ctrs). */
#define SD_AHEAD 16

static int
sd_input_ctrs(struct sched_driver *d)
{
	size_t n;
	struct queue_ent *const *v = queue_view(d->o.queue, &n);

	if (sd_grow((void **)&d->ctrs, &d->cap_ctrs, n, sizeof(*d->ctrs)) != 0)
		return -ENOMEM;
	/* ctr_ids grows with the same capacity */
	struct sd_ctr *ids = realloc(d->ctr_ids, (d->cap_ctrs ? d->cap_ctrs : 1) * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	d->ctr_ids = ids;
	size_t j = 0;
	/* Every container's runner state in one batch: one lookup each would scan every worker
	 * (O(containers x workers) per pass). The arrays are kept from pass to pass: at 100,000
	 * containers they are 3 MB, which malloc would map, fault in (and M_PERTURB fill) and
	 * unmap again on every turn. */
	if (sd_grow((void **)&d->st_uuids, &d->cap_st, n, sizeof(*d->st_uuids)) != 0)
		return -ENOMEM;
	if (d->cap_pst != d->cap_st) {
		struct pool_ctr_state *p = realloc(d->st, d->cap_st * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		d->st = p;
		d->cap_pst = d->cap_st;
	}
	const char **uuids = d->st_uuids;
	struct pool_ctr_state *pst = d->st;

	for (size_t i = 0; i < n; i++)
		uuids[i] = v[i]->uuid;
	int r = pool_container_states(d->o.pool, uuids, n, pst);

	if (r != 0)
		return r;
	bool unknown_workers = pool_count_unknown(d->o.pool) > 0;
	bool counting = sd_queue_count_begin(d);

	for (size_t i = 0; i < n; i++) {
		const struct queue_ent *e = v[i];
		struct sched_ctr *c = &d->ctrs[j];
		struct pool_ctr_state ps = pst[i];
		struct sd_memo *m = d->n_memo ? sd_memo_find(d, e->uuid) : NULL;

		/* The entries are scattered over the heap and the walk reads each once: at 100,000
		 * it waited on a cache miss per entry (one more for its first candidate) most of its
		 * time (perf: a quarter of the turn). Ask for them ahead, and for the candidates of
		 * those whose lines have arrived (a prefetch of NULL is harmless). */
		if (i + SD_AHEAD < n) {
			__builtin_prefetch(v[i + SD_AHEAD]);
			__builtin_prefetch(&v[i + SD_AHEAD]->priority);
			__builtin_prefetch(&v[i + SD_AHEAD]->choice.idx);
		}
		if (i + SD_AHEAD / 2 < n)
			__builtin_prefetch(v[i + SD_AHEAD / 2]->choice.idx);
		if (counting)
			sd_queue_count(d, e);

		/* Mounts not fetched yet, or no type fits: the candidates are unknown, and the
		 * queue (not the scheduler) cancels what no type fits. Left out of the pass unless
		 * a runner has it (then sync must still see it, or it would be killed as "not in
		 * queue"). */
		if (e->fit != QFIT_OK && !ps.in_running &&
		    (e->state == QST_QUEUED || e->state == QST_LOCKED))
			continue;
		memcpy(ids[j].uuid, e->uuid, sizeof(ids[j].uuid));
		*c = (struct sched_ctr){
			.uuid = ids[j].uuid,
			.state = sd_state(e->state),
			.priority = e->priority,
			.first_seen = (sched_time)e->first_seen_ms * SD_MS,
			.created_at = e->created_at_ms * SD_MS,
			.supervisor = e->supervisor,
			.need = e->choice.need,
			.types = e->fit == QFIT_OK ? e->choice.idx : NULL,
			.n_types = e->fit == QFIT_OK ? e->choice.n : 0,
			.op_in_flight = e->op != QOP_NONE,
			.in_running = ps.in_running,
			.exited = ps.exited,
			.exit_time = ps.exit_time,
			.runner_present = ps.runner_present,
			.overquota_unlocked_at = m ? m->overquota_unlocked_at : 0,
			.cancel_tried_at = m ? m->cancel_tried_at : 0,
		};
		/* When the pass first found it Running in no worker's list (sched_sync.c waits for
		 * a queue poll that started later before it cancels). */
		if (e->state == QST_RUNNING && !ps.in_running && !unknown_workers) {
			if (m == NULL)
				m = sd_memo_get(d, e->uuid, true);
			if (m != NULL && m->not_running_since == 0)
				m->not_running_since = pool_now(d->o.pool);
			c->not_running_since = m ? m->not_running_since : 0;
		} else if (m != NULL) {
			m->not_running_since = 0;
		}
		if (e->fit != QFIT_OK && (e->state == QST_QUEUED || e->state == QST_LOCKED))
			c->op_in_flight = true; /* the pass leaves it be */
		/* A container we hold Locked that no probed worker runs may be running on a worker
		 * not probed yet (adopted after a restart, state unknown): starting it elsewhere
		 * would run it twice, unlocking it would let it be locked and run again. The pass
		 * leaves it be until every unknown worker is probed or gone (the reference starts
		 * or unlocks it after StaleLockTimeout; an e2e test saw the double run under load). */
		if (unknown_workers && e->state == QST_LOCKED && !ps.in_running)
			c->op_in_flight = true;
		j++;
	}
	d->n_ctrs = j;
	if (counting)
		sd_queue_count_publish(d);
	return 0;
}

/* The workers, their ids copied into one buffer kept from pass to pass (a strdup per worker
 * per turn was 10,000 small blocks allocated and freed on every turn at scale). */
static int
sd_input_workers(struct sched_driver *d)
{
	const struct sched_worker *w;
	size_t n, len = 0, off = 0;

	d->n_workers = 0;
	if (pool_sched_workers(d->o.pool, &w, &n) != 0)
		return -ENOMEM;
	if (sd_grow((void **)&d->workers, &d->cap_workers, n, sizeof(*d->workers)) != 0)
		return -ENOMEM;
	char **ids = realloc(d->worker_ids, (d->cap_workers ? d->cap_workers : 1) * sizeof(*ids));
	if (ids == NULL)
		return -ENOMEM;
	d->worker_ids = ids;
	for (size_t i = 0; i < n; i++)
		len += strlen(w[i].id != NULL ? w[i].id : "") + 1;
	if (sd_grow((void **)&d->wid_buf, &d->cap_wid_buf, len, 1) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *id = w[i].id != NULL ? w[i].id : "";
		size_t l = strlen(id) + 1;

		ids[i] = memcpy(d->wid_buf + off, id, l);
		off += l;
		d->workers[i] = w[i];
		d->workers[i].id = ids[i];
		/* run[] stays the pool's: read only during the pass, before any pool call. */
	}
	d->n_workers = n;
	return 0;
}

static int
sd_input_uncached(struct sched_driver *d)
{
	const char *const *r;
	size_t n;

	for (size_t i = 0; i < d->n_uncached; i++)
		free(d->uncached[i]);
	d->n_uncached = 0;
	if (pool_running_uuids(d->o.pool, &r, &n) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (queue_get(d->o.queue, r[i]) != NULL)
			continue;
		if (sd_grow((void **)&d->uncached, &d->cap_uncached, d->n_uncached + 1,
			    sizeof(char *)) != 0 ||
		    (d->uncached[d->n_uncached] = strdup(r[i])) == NULL)
			return -ENOMEM;
		d->n_uncached++;
	}
	return 0;
}

int
sd_input(struct sched_driver *d)
{
	int r;

	if ((r = sd_memo_prune(d)) != 0 || (r = sd_input_ctrs(d)) != 0 ||
	    (r = sd_input_workers(d)) != 0 || (r = sd_input_uncached(d)) != 0)
		return r;
	d->in = (struct sched_input){
		.cluster = d->o.cluster,
		.now = pool_now(d->o.pool),
		.ctrs = d->ctrs,
		.n_ctrs = d->n_ctrs,
		.workers = d->workers,
		.n_workers = d->n_workers,
		.running_uncached = (const char *const *)d->uncached,
		.n_running_uncached = d->n_uncached,
		.quota_hold = pool_at_quota(d->o.pool),
		.type_at_capacity = pool_type_at_capacity(d->o.pool),
		.create_throttled = pool_create_throttled(d->o.pool),
		.runner_unavailable = pool_runner_unavailable(d->o.pool),
		.any_unknown_worker = pool_count_unknown(d->o.pool) > 0,
		.queue_threshold = (sched_time)queue_threshold_ms(d->o.queue) * SD_MS,
		.api_last_503 = d->o.api ? (sched_time)api_client_last_503(d->o.api) * SD_MS : 0,
	};
	return 0;
}
