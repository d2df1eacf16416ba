/* sched_driver_input.c - the scheduler's views (struct sched_input) from the queue and the
 * pool, built fresh for each pass. The containers point into the queue's entries, which stay
 * allocated until the next pass's queue_reap (a queue_forget while the decisions are carried
 * out, or a poll between passes, only unlinks them); the workers' ids are copied into the
 * driver's own buffer (a pool call may free what the pool's arrays point to). */
#include "sched_driver_internal.h"

#include <errno.h>
#include <stddef.h>
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

static const char *
sd_memo_key(const void *ctx, size_t i)
{
	const struct sched_driver *d = ctx;

	return d->memo_uuid[i];
}

struct sched_memo *
sd_memo_get(struct sched_driver *d, const char *uuid, bool create)
{
	for (size_t i = 0; i < d->n_memo; i++)
		if (strcmp(d->memo_uuid[i], uuid) == 0)
			return &d->memo[i];
	if (!create)
		return NULL;
	if (d->n_memo == d->cap_memo) {
		size_t cap = d->cap_memo ? 2 * d->cap_memo : 16;
		struct sched_memo *m = realloc(d->memo, cap * sizeof(*m));

		if (m == NULL)
			return NULL;
		d->memo = m;
		d->in.memos = m; /* the input read while the decisions are carried out */
		char(*u)[QUEUE_UUID_MAX] = realloc(d->memo_uuid, cap * sizeof(*u));
		if (u == NULL)
			return NULL;
		d->memo_uuid = u;
		d->cap_memo = cap;
	}
	/* NUL-padded, as the queue's uuids are: the index compares whole buffers */
	memset(d->memo_uuid[d->n_memo], 0, QUEUE_UUID_MAX);
	snprintf(d->memo_uuid[d->n_memo], QUEUE_UUID_MAX, "%s", uuid);
	d->memo[d->n_memo] = (struct sched_memo){ 0 };
	return &d->memo[d->n_memo++];
}

/* Drop memories of containers the queue no longer holds; index the rest. */
static int
sd_memo_prune(struct sched_driver *d)
{
	size_t j = 0;

	for (size_t i = 0; i < d->n_memo; i++) {
		if (queue_get(d->o.queue, d->memo_uuid[i]) == NULL)
			continue;
		d->memo[j] = d->memo[i];
		memcpy(d->memo_uuid[j++], d->memo_uuid[i], QUEUE_UUID_MAX);
	}
	d->n_memo = j;
	return uuid_index_build(&d->memo_index, d, sd_memo_key, j);
}

/* The spot fallback's count of earlier dispatch attempts: lock_count counts every lock, the
 * current one too once it is Locked (docs/SCHEDULER.md "Spot to on-demand fallback"). */
static uint8_t
sd_attempts(const struct queue_ent *e)
{
	uint32_t n = e->lock_count;

	if (n > 0 && (e->state == QST_LOCKED || e->state == QST_RUNNING))
		n--;
	return n > UINT8_MAX ? UINT8_MAX : (uint8_t)n;
}

static const char *
sd_rs_key(const void *ctx, size_t i)
{
	return ((const struct pool_uuid_state *)ctx)[i].uuid;
}

/* Entries are asked for this many steps ahead of the walk (sd_input_ctrs). */
#define SD_AHEAD 16
/* The walk prefetches an entry's first byte and cancel_tries: every line of what it reads
 * when these are less than a line apart. */
_Static_assert(offsetof(struct queue_ent, cancel_tries) < 64, "the walk's fields outgrew a line");

static int
sd_input_ctrs(struct sched_driver *d)
{
	size_t n;
	struct queue_ent *const *v = queue_view(d->o.queue, &n);

	if (sd_grow((void **)&d->ctrs, &d->cap_ctrs, n, sizeof(*d->ctrs)) != 0)
		return -ENOMEM;
	size_t j = 0, n_rs;
	/* The runner states of the few containers the workers have, indexed by uuid: a lookup
	 * per container that scanned every worker was O(containers x workers) per pass, and
	 * asking for every queued container took two arrays the size of the queue (32 bytes a
	 * container at 100,000, rewritten on every turn). */
	const struct pool_uuid_state *rs;

	if (pool_runner_states(d->o.pool, &rs, &n_rs) != 0 ||
	    uuid_index_build(&d->run_index, rs, sd_rs_key, n_rs) != 0)
		return -ENOMEM;
	bool unknown_workers = pool_count_unknown(d->o.pool) > 0;
	bool counting = sd_queue_count_begin(d);

	for (size_t i = 0; i < n; i++) {
		const struct queue_ent *e = v[i];
		struct sched_ctr *c = &d->ctrs[j];
		int64_t ri = n_rs ? uuid_index_find(&d->run_index, rs, sd_rs_key, e->uuid) : -1;
		struct pool_ctr_state ps = ri >= 0 ? rs[ri].st : (struct pool_ctr_state){ 0 };
		int64_t mi = d->n_memo ? uuid_index_find(&d->memo_index, d, sd_memo_key, e->uuid)
				       : -1;
		struct sched_memo *m = mi >= 0 ? &d->memo[mi] : NULL;

		/* The entries are scattered over the heap and the walk reads each once: at 100,000
		 * it waited on a cache miss per entry (one more for its first candidate) most of its
		 * time (perf: a quarter of the turn). Ask for them ahead, and for the candidates of
		 * those whose lines have arrived (a prefetch of NULL is harmless). */
		if (i + SD_AHEAD < n) {
			/* The fields read here are the entry's first 43 bytes (queue.h): the
			 * lines of its first and last byte. */
			__builtin_prefetch(v[i + SD_AHEAD]);
			__builtin_prefetch(&v[i + SD_AHEAD]->cancel_tries);
		}
		if (i + SD_AHEAD / 2 < n)
			__builtin_prefetch(v[i + SD_AHEAD / 2]->choice);
		if (counting)
			sd_queue_count(d, e);

		/* Mounts not fetched yet, or no type fits: the candidates are unknown, and the
		 * queue (not the scheduler) cancels what no type fits. Left out of the pass unless
		 * a runner has it (then sync must still see it, or it would be killed as "not in
		 * queue"). */
		if (e->fit != QFIT_OK && !ps.in_running &&
		    (e->state == QST_QUEUED || e->state == QST_LOCKED))
			continue;
		*c = (struct sched_ctr){
			.uuid = e->uuid,
			.state = (uint8_t)sd_state(e->state),
			.priority = e->priority,
			.first_seen = (sched_time)e->first_seen_ms * SD_MS,
			.created_at = e->created_at_ns,
			.supervisor = e->supervisor,
			.need = &e->choice->need,
			.types = e->fit == QFIT_OK ? e->choice->idx : NULL,
			.n_types = e->fit == QFIT_OK ? e->choice->n : 0,
			.op_in_flight = e->op != QOP_NONE,
			.in_running = ps.in_running,
			.exited = ps.exited,
			.exit_time = ps.exit_time,
			.runner_present = ps.runner_present,
			.memo = m ? (uint32_t)(m - d->memo) + 1 : 0,
			.n_fallback = e->fit == QFIT_OK ? (uint8_t)e->choice->n_fallback : 0,
			.attempts = sd_attempts(e),
		};
		/* When the pass first found it Running in no worker's list (sched_sync.c waits for
		 * a queue poll that started later before it cancels). */
		if (e->state == QST_RUNNING && !ps.in_running && !unknown_workers) {
			if (m == NULL && (m = sd_memo_get(d, e->uuid, true)) != NULL)
				c->memo = (uint32_t)(m - d->memo) + 1;
			if (m != NULL && m->not_running_since == 0)
				m->not_running_since = pool_now(d->o.pool);
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

	/* The last pass's pointers are dropped here: the entries removed since can go. */
	free(d->detached);
	d->detached = NULL;
	d->n_ctrs = 0;
	d->have_pass = false; /* the statuses are the last pass's: not these containers' */
	queue_reap(d->o.queue);
	if ((r = sd_memo_prune(d)) != 0 || (r = sd_input_ctrs(d)) != 0 ||
	    (r = sd_input_workers(d)) != 0 || (r = sd_input_uncached(d)) != 0)
		return r;
	d->in = (struct sched_input){
		.cluster = d->o.cluster,
		.now = pool_now(d->o.pool),
		.ctrs = d->ctrs,
		.n_ctrs = d->n_ctrs,
		.memos = d->memo,
		.n_memos = d->n_memo,
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
