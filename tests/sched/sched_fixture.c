/* sched_fixture.c - see sched_fixture.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_fixture.h"

static void
fx_check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "fixture: %s failed: %d\n", what, rc);
		abort();
	}
}

struct fx_world *
fx_new(uint32_t types, double price_factor, int64_t max_instances)
{
	struct fx_world *f = calloc(1, sizeof(*f));
	struct cfg_cluster *cl = calloc(1, sizeof(*cl));
	size_t n = 0;

	if (f == NULL || cl == NULL ||
	    (cl->instance_types = calloc(32, sizeof(*cl->instance_types))) == NULL)
		abort();
	/* cfg keeps types sorted by name; the tests only need a stable array. */
	for (int i = 1; i <= 30; i++) {
		struct cfg_instance_type *it = &cl->instance_types[n];
		char name[16];

		if (!(types & (1u << i)))
			continue;
		snprintf(name, sizeof(name), "type%d", i);
		it->name = strdup(name);
		it->provider_type = strdup(name);
		it->gpu.driver_version = strdup("");
		it->gpu.hardware_target = strdup("");
		it->vcpus = i;
		it->ram = i * FX_GiB;
		it->scratch = it->included_scratch = i * 10 * FX_GiB;
		it->price = i;
		n++;
	}
	cl->n_instance_types = n;
	cl->containers.maximum_price_factor = price_factor;
	cl->containers.cloudvms.max_instances = max_instances;
	cl->containers.cloudvms.supervisor_fraction = 0.2;
	f->cl = cl;
	fx_check(itypes_table_new(cl, &f->tt), "itypes_table_new");
	fx_check(sched_new(cl, &f->s), "sched_new");
	sched_result_init(&f->r);
	f->in.now = 1000 * SCHED_SECOND;
	f->in.cluster = cl;
	return f;
}

void
fx_resched(struct fx_world *f)
{
	sched_free(f->s);
	fx_check(sched_new(f->cl, &f->s), "sched_new");
}

void
fx_free(struct fx_world *f)
{
	for (size_t i = 0; i < f->nc; i++)
		itypes_choice_free(&f->ch[i]);
	sched_free(f->s);
	itypes_table_free(f->tt);
	for (size_t i = 0; i < f->cl->n_instance_types; i++) {
		free(f->cl->instance_types[i].name);
		free(f->cl->instance_types[i].provider_type);
		free(f->cl->instance_types[i].gpu.driver_version);
		free(f->cl->instance_types[i].gpu.hardware_target);
	}
	free(f->cl->instance_types);
	free(f->cl);
	sched_result_free(&f->r);
	free(f);
}

static int
fx_type_index(const struct fx_world *f, int typen)
{
	char name[16];

	snprintf(name, sizeof(name), "type%d", typen);
	for (size_t i = 0; i < f->cl->n_instance_types; i++)
		if (strcmp(f->cl->instance_types[i].name, name) == 0)
			return (int)i;
	abort();
}

int
fx_ctr(struct fx_world *f, const char *name, enum sched_cstate st, int64_t prio, int64_t vcpus,
       int64_t ram)
{
	size_t i = f->nc++;
	struct sched_ctr *c = &f->c[i];
	struct ctres r;
	char err[ITYPES_ERR_MAX];

	if (i >= FX_MAX_CTRS)
		abort();
	if (name != NULL)
		snprintf(f->uuid[i], sizeof(f->uuid[i]), "%s", name);
	else
		snprintf(f->uuid[i], sizeof(f->uuid[i]), "ctr-%lld", (long long)prio);
	ctres_init(&r);
	r.vcpus = vcpus;
	r.ram = ram;
	r.preemptible = f->preemptible;
	memset(c, 0, sizeof(*c));
	if (itypes_choose(f->tt, &r, &f->ch[i], err, sizeof(err)) == 0) {
		c->types = f->ch[i].idx;
		c->n_types = f->ch[i].n;
		c->n_fallback = (uint8_t)f->ch[i].n_fallback;
	}
	c->need = &f->ch[i].need;
	c->memo = (uint32_t)i + 1;
	f->memo[i] = (struct sched_memo){ 0 };
	c->uuid = f->uuid[i];
	c->state = st;
	c->priority = prio;
	c->first_seen = (sched_time)i;
	c->created_at = f->in.now;
	return (int)i;
}

int
fx_ctr_index(const struct fx_world *f, const char *name)
{
	for (size_t i = 0; i < f->nc; i++)
		if (strcmp(f->uuid[i], name) == 0)
			return (int)i;
	return -1;
}

int
fx_worker(struct fx_world *f, const char *id, int typen, enum sched_wstate st, enum sched_idle idle)
{
	size_t i = f->nw++;

	if (i >= FX_MAX_WORKERS)
		abort();
	snprintf(f->wid[i], sizeof(f->wid[i]), "%s", id != NULL ? id : "");
	f->w[i] = (struct sched_worker){
		.id = f->wid[i],
		.type = (uint32_t)fx_type_index(f, typen),
		.state = st,
		.idle = idle,
		.run = f->run[i],
	};
	return (int)i;
}

void
fx_run_on(struct fx_world *f, int ci, int wi, bool keep_state)
{
	struct sched_worker *w = &f->w[wi];

	f->run[wi][w->n_run++] = (struct sched_wrun){ .uuid = f->c[ci].uuid,
						      .need = *f->c[ci].need,
						      .need_known = true };
	w->state = SCHED_W_RUNNING;
	f->c[ci].in_running = true;
	if (!keep_state)
		f->c[ci].state = SCHED_RUNNING;
}

static void
fx_input(struct fx_world *f)
{
	f->in.cluster = f->cl;
	f->in.ctrs = f->c;
	f->in.n_ctrs = f->nc;
	f->in.memos = f->memo;
	f->in.n_memos = f->nc;
	f->in.workers = f->w;
	f->in.n_workers = f->nw;
	f->in.type_at_capacity = f->at_cap;
}

int
fx_pass(struct fx_world *f)
{
	fx_input(f);
	return sched_pass(f->s, &f->in, &f->r);
}

int
fx_sync(struct fx_world *f)
{
	fx_input(f);
	return sched_sync(&f->in, &f->r);
}

size_t
fx_count(const struct fx_world *f, enum sched_dkind k)
{
	size_t n = 0;

	for (size_t i = 0; i < f->r.n; i++)
		n += f->r.d[i].kind == k;
	return n;
}

const struct sched_decision *
fx_find(const struct fx_world *f, enum sched_dkind k, const char *name)
{
	int ci = fx_ctr_index(f, name);

	for (size_t i = 0; i < f->r.n; i++)
		if (f->r.d[i].kind == k && f->r.d[i].ctr == ci)
			return &f->r.d[i];
	return NULL;
}

const char *
fx_status(const struct fx_world *f, const char *name)
{
	static char buf[SCHED_STATUS_MAX];
	int ci = fx_ctr_index(f, name);

	if (ci < 0 || (size_t)ci >= f->r.n_status)
		return "(none)";
	if (sched_status_format(f->cl, &f->c[ci], &f->r.status[ci], buf, sizeof(buf)) < 0)
		return "(error)";
	return buf;
}

static const char *
fx_list(const struct fx_world *f, enum sched_dkind k, bool types)
{
	static char buf[2][1024];
	char *b = buf[types];
	size_t at = 0;

	b[0] = '\0';
	for (size_t i = 0; i < f->r.n && at < sizeof(buf[0]); i++) {
		const struct sched_decision *d = &f->r.d[i];

		if (d->kind != k)
			continue;
		at += (size_t)snprintf(b + at, sizeof(buf[0]) - at, "%s%s", at ? " " : "",
				       types ? f->cl->instance_types[d->type].name
					     : f->uuid[d->ctr]);
	}
	return b;
}

const char *
fx_started(const struct fx_world *f)
{
	return fx_list(f, SCHED_D_START, false);
}

const char *
fx_created(const struct fx_world *f)
{
	return fx_list(f, SCHED_D_CREATE, true);
}

static void
fx_apply_one(struct fx_world *f, const struct sched_decision *d, bool boot_now)
{
	struct sched_ctr *c = d->ctr >= 0 ? &f->c[d->ctr] : NULL;
	char id[32];

	switch ((enum sched_dkind)d->kind) {
	case SCHED_D_LOCK:
		if (c->state == SCHED_QUEUED)
			c->state = SCHED_LOCKED;
		break;
	case SCHED_D_START:
		fx_run_on(f, d->ctr, d->worker, false);
		break;
	case SCHED_D_CREATE:
		snprintf(id, sizeof(id), "i-%03d", ++f->next_instance);
		fx_worker(f, id, atoi(f->cl->instance_types[d->type].name + 4),
			  boot_now ? SCHED_W_IDLE : SCHED_W_BOOTING, SCHED_IDLE_RUN);
		break;
	case SCHED_D_UNLOCK:
		c->state = SCHED_QUEUED;
		f->unlocks[d->ctr]++;
		if (d->reason == SCHED_R_OVERQUOTA)
			f->memo[d->ctr].overquota_unlocked_at = f->in.now;
		break;
	case SCHED_D_SHUTDOWN:
		f->w[d->worker].state = SCHED_W_SHUTDOWN;
		break;
	case SCHED_D_CANCEL:
		c->state = SCHED_CANCELLED;
		break;
	case SCHED_D_FALLBACK: /* the loop's memory (sched_driver_exec.c) */
		f->memo[d->ctr].fell_back = d->reason == SCHED_R_FALLBACK_ATTEMPTS
						    ? SCHED_FB_ATTEMPTS
						    : SCHED_FB_CAPACITY;
		break;
	default:
		break;
	}
}

void
fx_apply(struct fx_world *f, bool boot_now)
{
	size_t n = f->r.n;

	for (size_t i = 0; i < n; i++)
		fx_apply_one(f, &f->r.d[i], boot_now);
	f->in.now += SCHED_SECOND;
}
