/* pool_view.c - what the scheduler reads from the pool (docs/SCHEDULER.md) and the running set. */
#include "pool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The current spot price: the latest entry of the price history cloudd attached (5.7.3);
 * 0 when there is none (on-demand, or not known yet). */
static double
pool_current_price(const struct pool_worker *w)
{
	const struct pool_price *cur = NULL;

	for (size_t i = 0; i < w->n_prices; i++)
		if (cur == NULL || w->prices[i].start_time >= cur->start_time)
			cur = &w->prices[i];
	return cur != NULL && cur->price > 0 ? cur->price : 0;
}

int
pool_sched_workers(struct pool *p, const struct sched_worker **out, size_t *n)
{
	size_t nr = 0, nw = p->n_workers + p->n_pending, k = 0;

	for (size_t i = 0; i < p->n_workers; i++)
		nr += p->workers[i]->n_run;
	struct sched_worker *sw = realloc(p->sw, (nw + 1) * sizeof(*sw));

	if (!sw)
		return -ENOMEM;
	p->sw = sw;
	struct sched_wrun *swr = realloc(p->swr, (nr + 1) * sizeof(*swr));

	if (!swr)
		return -ENOMEM;
	p->swr = swr;
	for (size_t i = 0; i < p->n_workers; i++) {
		struct pool_worker *w = p->workers[i];

		sw[i] = (struct sched_worker){ .id = w->id,
					       .type = w->type_known ? w->type : 0,
					       .state = w->state,
					       .idle = w->idle,
					       .run = &swr[k],
					       .n_run = (uint32_t)w->n_run,
					       .last_busy = w->busy,
					       .price = pool_current_price(w),
					       .spot_notice = w->spot_action != NULL };
		/* An instance of a type no longer configured takes nothing new. */
		if (!w->type_known)
			sw[i].idle = SCHED_IDLE_DRAIN;
		for (size_t j = 0; j < w->n_run; j++, k++)
			swr[k] = (struct sched_wrun){ .uuid = w->run[j]->uuid,
						      .need = w->run[j]->need,
						      .need_known = w->run[j]->need_known };
	}
	for (size_t i = 0; i < p->n_pending; i++)
		sw[p->n_workers + i] = (struct sched_worker){ .id = "",
							      .type = p->pending[i].type,
							      .state = SCHED_W_BOOTING,
							      .idle = SCHED_IDLE_RUN };
	*out = sw;
	*n = nw;
	return 0;
}

/* Computed from the workers' runner maps at the time of the call (fix, weakness 2): a
 * container the last probe found on an unknown worker is "present" at once. */
void
pool_container_state(const struct pool *p, const char *uuid, struct pool_ctr_state *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < p->n_workers; i++) {
		if (pool_runner_find(p->workers[i], uuid)) {
			st->in_running = st->runner_present = true;
			break;
		}
	}
	for (size_t i = 0; i < p->n_exited; i++) {
		if (strcmp(p->exited[i].uuid, uuid) == 0) {
			st->in_running = true;
			/* A live runner of a new attempt wins over the old placeholder. */
			if (!st->runner_present) {
				st->exited = true;
				st->exit_time = p->exited[i].at;
			}
		}
	}
}

static int
pool_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Exited placeholders by uuid, then by position: the last of equal uuids wins, as in the loop
 * of pool_container_state. */
struct pool_exref {
	const char *uuid;
	size_t i;
};

static int
pool_cmp_exref(const void *a, const void *b)
{
	const struct pool_exref *x = a, *y = b;
	int c = strcmp(x->uuid, y->uuid);

	return c != 0 ? c : (x->i > y->i) - (x->i < y->i);
}

int
pool_container_states(const struct pool *p, const char *const *uuids, size_t n,
		      struct pool_ctr_state *st)
{
	size_t nr = 0, k = 0, ne = p->n_exited;

	for (size_t i = 0; i < p->n_workers; i++)
		nr += p->workers[i]->n_run;
	const char **run = malloc((nr ? nr : 1) * sizeof(*run));
	struct pool_exref *ex = malloc((ne ? ne : 1) * sizeof(*ex));

	if (run == NULL || ex == NULL) {
		free(run);
		free(ex);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_workers; i++)
		for (size_t j = 0; j < p->workers[i]->n_run; j++)
			run[k++] = p->workers[i]->run[j]->uuid;
	qsort(run, nr, sizeof(*run), pool_cmp_str);
	for (size_t i = 0; i < ne; i++)
		ex[i] = (struct pool_exref){ p->exited[i].uuid, i };
	qsort(ex, ne, sizeof(*ex), pool_cmp_exref);
	for (size_t i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		if (nr && bsearch(&uuids[i], run, nr, sizeof(*run), pool_cmp_str) != NULL)
			st[i].in_running = st[i].runner_present = true;
		/* The last placeholder of this uuid: the end of its run of equal keys. */
		size_t lo = 0, hi = ne;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(ex[mid].uuid, uuids[i]) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0 && strcmp(ex[lo - 1].uuid, uuids[i]) == 0) {
			st[i].in_running = true;
			if (!st[i].runner_present) {
				st[i].exited = true;
				st[i].exit_time = p->exited[ex[lo - 1].i].at;
			}
		}
	}
	free(run);
	free(ex);
	return 0;
}

_Static_assert(POOL_UUID_KEY == POOL_UUID_MAX, "runner uuids are copied whole");

int
pool_runner_states(struct pool *p, const struct pool_uuid_state **out, size_t *n)
{
	size_t nr = p->n_exited, k = 0;

	for (size_t i = 0; i < p->n_workers; i++)
		nr += p->workers[i]->n_run;
	const char **u = malloc((nr ? nr : 1) * sizeof(*u));
	struct pool_ctr_state *st = malloc((nr ? nr : 1) * sizeof(*st));

	if (u == NULL || st == NULL)
		goto nomem;
	for (size_t i = 0; i < p->n_workers; i++)
		for (size_t j = 0; j < p->workers[i]->n_run; j++)
			u[k++] = p->workers[i]->run[j]->uuid;
	for (size_t i = 0; i < p->n_exited; i++)
		u[k++] = p->exited[i].uuid;
	qsort(u, nr, sizeof(*u), pool_cmp_str);
	k = 0; /* each uuid once */
	for (size_t i = 0; i < nr; i++)
		if (k == 0 || strcmp(u[k - 1], u[i]) != 0)
			u[k++] = u[i];
	if (pool_container_states(p, u, k, st) != 0)
		goto nomem;
	if (k > p->cap_rstates) {
		struct pool_uuid_state *r = realloc(p->rstates, k * sizeof(*r));

		if (r == NULL)
			goto nomem;
		p->rstates = r;
		p->cap_rstates = k;
	}
	for (size_t i = 0; i < k; i++) {
		memset(p->rstates[i].uuid, 0, sizeof(p->rstates[i].uuid));
		memcpy(p->rstates[i].uuid, u[i], strnlen(u[i], POOL_UUID_MAX - 1));
		p->rstates[i].st = st[i];
	}
	free(u);
	free(st);
	*out = p->rstates;
	*n = k;
	return 0;
nomem:
	free(u);
	free(st);
	return -ENOMEM;
}

int
pool_running_uuids(struct pool *p, const char *const **out, size_t *n)
{
	size_t cap = p->n_exited + 1, k = 0;

	for (size_t i = 0; i < p->n_workers; i++)
		cap += p->workers[i]->n_run;
	const char **u = realloc(p->uuids, cap * sizeof(*u));

	if (!u)
		return -ENOMEM;
	p->uuids = u;
	for (size_t i = 0; i < p->n_workers; i++)
		for (size_t j = 0; j < p->workers[i]->n_run; j++)
			u[k++] = p->workers[i]->run[j]->uuid;
	if (p->n_exited > 0) {
		/* The placeholders without a live runner, in one sorted batch: a scan of every
		 * runner per placeholder was O(placeholders x runners) per pass (issue 16: 7% of
		 * dispatcherd's CPU at 140 containers/s, 200 runners). */
		const char **ex = malloc(p->n_exited * sizeof(*ex));
		struct pool_ctr_state *st = malloc(p->n_exited * sizeof(*st));

		for (size_t i = 0; ex && i < p->n_exited; i++)
			ex[i] = p->exited[i].uuid;
		if (!ex || !st || pool_container_states(p, ex, p->n_exited, st) != 0) {
			free(ex);
			free(st);
			return -ENOMEM;
		}
		for (size_t i = 0; i < p->n_exited; i++)
			if (!st[i].runner_present)
				u[k++] = p->exited[i].uuid;
		free(ex);
		free(st);
	}
	*out = u;
	*n = k;
	return 0;
}

size_t
pool_count_unknown(const struct pool *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_workers; i++)
		n += p->workers[i]->state == SCHED_W_UNKNOWN;
	return n;
}
