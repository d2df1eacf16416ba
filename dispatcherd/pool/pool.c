/* pool.c - the pool's life cycle: start its loops, count outstanding calls, close. */
#include "pool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"

int64_t
pool_now(const struct pool *p)
{
	struct timespec ts;

	if (p->o.now)
		return p->o.now(p->o.now_ctx);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * POOL_SECOND + ts.tv_nsec;
}

uint32_t
pool_ms(int64_t ns)
{
	if (ns <= 0)
		return 0;
	if (ns / POOL_NS_PER_MS > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(ns / POOL_NS_PER_MS);
}

/* Every SSH call gets a deadline (fix, weakness 6): TimeoutProbe, at least one second. */
uint32_t
pool_ssh_timeout_ms(const struct pool *p)
{
	uint32_t ms = pool_ms(p->vm->timeout_probe);

	return ms < 1000 ? 1000 : ms;
}

bool
pool_loaded(const struct pool *p)
{
	return p->loaded;
}

void
pool_changed(struct pool *p)
{
	if (p->closing)
		return;
	pool_metrics_update(p);
	if (p->o.on_change)
		p->o.on_change(p->o.on_change_ctx);
}

void
pool_call_begin(struct pool *p)
{
	p->calls++;
}

bool
pool_call_end(struct pool *p)
{
	p->calls--;
	return p->closing;
}

const struct cfg_instance_type *
pool_itype(const struct pool *p, const struct pool_worker *w)
{
	return w->type_known ? &p->cl->instance_types[w->type] : NULL;
}

static void
pool_free_now(struct pool *p)
{
	while (p->n_workers > 0)
		pool_worker_remove(p, p->workers[p->n_workers - 1]);
	for (size_t i = 0; i < p->n_cap_holds; i++)
		free(p->cap_holds[i].key);
	for (size_t i = 0; i < p->n_round; i++)
		free(p->round[i]);
	free(p->round);
	free(p->cap_holds);
	free(p->workers);
	free(p->hash);
	free(p->pending);
	free(p->exited);
	free(p->at_capacity);
	free(p->sw);
	free(p->swr);
	free(p->uuids);
	free(p->rstates);
	free(p->key_set_id);
	free(p->key_type);
	free(p->key_idle);
	free(p->key_secret);
	free(p);
}

/* Free once closing, with no call outstanding and every timer closed. Workers still
 * referenced by a call were kept only for that call; they are released by pool_free_now. */
void
pool_maybe_free(struct pool *p)
{
	if (p->closing && p->calls == 0 && p->open_handles == 0)
		pool_free_now(p);
}

static void
pool_handle_closed(uv_handle_t *h)
{
	struct pool *p = h->data;

	p->open_handles--;
	pool_maybe_free(p);
}

static void
pool_timer_init(struct pool *p, uv_timer_t *t)
{
	uv_timer_init(p->o.loop, t);
	t->data = p;
	p->open_handles++;
}

void
pool_close(struct pool *p)
{
	uv_timer_t *timers[] = { &p->sync_timer, &p->probe_timer, &p->pace_timer,
				 &p->ops_timer,	 &p->kill_timer,  &p->hold_timer };

	if (!p || p->closing)
		return;
	p->closing = true;
	pool_cloudops_drop_all(p);
	while (p->kills) {
		struct pool_runner *r = p->kills;

		p->kills = r->kill_next;
		r->kill_next = NULL;
	}
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
		uv_close((uv_handle_t *)timers[i], pool_handle_closed);
}

static int
pool_check_opts(const struct pool_opts *o)
{
	const struct pool_cloud_port *c = &o->cloud;
	const struct pool_ssh_port *s = &o->ssh;

	if (!o->loop || !o->cluster || !c->create || !c->list || !c->destroy || !c->set_tags ||
	    !c->quota_group || !s->verify || !s->boot_probe || !s->deploy || !s->run_probe ||
	    !s->start || !s->kill || !s->forget)
		return -EINVAL;
	return 0;
}

int
pool_new(const struct pool_opts *o, struct pool **out)
{
	struct pool *p;
	int rc;

	*out = NULL;
	if ((rc = pool_check_opts(o)) < 0)
		return rc;
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	p->o = *o;
	p->cl = o->cluster;
	p->vm = &o->cluster->containers.cloudvms;
	p->at_capacity = calloc(p->cl->n_instance_types + 1, sizeof(bool));
	if (!p->at_capacity ||
	    identity_instance_set_id(p->cl->system_root_token ? p->cl->system_root_token : "",
				     p->set_id, sizeof(p->set_id)) < 0 ||
	    (rc = pool_tags_init(p)) < 0) {
		p->closing = true;
		pool_free_now(p);
		return -ENOMEM;
	}
	pool_metrics_init(p);
	pool_timer_init(p, &p->sync_timer);
	pool_timer_init(p, &p->probe_timer);
	pool_timer_init(p, &p->pace_timer);
	pool_timer_init(p, &p->ops_timer);
	pool_timer_init(p, &p->kill_timer);
	pool_timer_init(p, &p->hold_timer);
	/* 5.3: sync at once, then every SyncInterval; probes every ProbeInterval. */
	uv_timer_start(&p->sync_timer, pool_sync_timer_cb, 0, 0);
	uint64_t pi = pool_ms(p->vm->probe_interval);
	uv_timer_start(&p->probe_timer, pool_probe_timer_cb, pi ? pi : 1, pi ? pi : 1);
	*out = p;
	return 0;
}
