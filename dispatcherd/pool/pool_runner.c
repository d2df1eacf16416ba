/* pool_runner.c - crunch-run runners on workers: start (5.9), running set (5.10), kill (5.11). */
#include "pool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_gate.h"
#include "util.h"

struct pool_runner *
pool_runner_find(const struct pool_worker *w, const char *uuid)
{
	for (size_t i = 0; i < w->n_run; i++)
		if (strcmp(w->run[i]->uuid, uuid) == 0)
			return w->run[i];
	return NULL;
}

struct pool_runner *
pool_runner_add(struct pool_worker *w, const char *uuid, bool running)
{
	struct pool_runner *r;

	if (strlen(uuid) >= POOL_UUID_MAX)
		return NULL;
	if (w->n_run == w->cap_run) {
		size_t cap = w->cap_run ? w->cap_run * 2 : 4;
		struct pool_runner **a = realloc(w->run, cap * sizeof(*a));

		if (!a)
			return NULL;
		w->run = a;
		w->cap_run = cap;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	r->w = w;
	r->refs = 1; /* the worker's */
	r->running = running;
	strcpy(r->uuid, uuid);
	w->run[w->n_run++] = r;
	return r;
}

void
pool_runner_unref(struct pool_runner *r)
{
	if (--r->refs > 0)
		return;
	free(r->kill_reason);
	free(r);
}

static void pool_kill_unlist(struct pool *p, struct pool_runner *r);

/* Detach r from its worker (it was ended or abandoned); its kill series stops. */
static void
pool_runner_close(struct pool_runner *r)
{
	struct pool_worker *w = r->w;

	if (r->killing)
		pool_kill_unlist(w->p, r);
	for (size_t i = 0; i < w->n_run; i++) {
		if (w->run[i] == r) {
			w->run[i] = w->run[--w->n_run];
			break;
		}
	}
	r->w = NULL;
	pool_runner_unref(r);
}

static int
pool_exited_find(const struct pool *p, const char *uuid)
{
	for (size_t i = 0; i < p->n_exited; i++)
		if (strcmp(p->exited[i].uuid, uuid) == 0)
			return (int)i;
	return -1;
}

void
pool_exited_add(struct pool *p, const char *uuid)
{
	int i = pool_exited_find(p, uuid);

	if (i < 0) {
		if (p->n_exited == p->cap_exited) {
			size_t cap = p->cap_exited ? p->cap_exited * 2 : 16;
			struct pool_exited *a = realloc(p->exited, cap * sizeof(*a));

			if (!a)
				return;
			p->exited = a;
			p->cap_exited = cap;
		}
		i = (int)p->n_exited++;
		strcpy(p->exited[i].uuid, uuid);
	}
	p->exited[i].at = pool_now(p);
}

void
pool_forget_exited(struct pool *p, const char *uuid)
{
	int i = pool_exited_find(p, uuid);

	if (i < 0)
		return;
	log_kv(LOG_LVL_DEBUG, "clearing placeholder for exited crunch-run process",
	       LF_STR("ContainerUUID", uuid));
	p->exited[i] = p->exited[--p->n_exited];
}

/* 5.10: the runner ended (probe no longer lists it, or a kill succeeded). */
void
pool_runner_ended(struct pool_runner *r)
{
	struct pool_worker *w = r->w;
	struct pool *p = w->p;

	log_kv(LOG_LVL_INFO, "crunch-run process ended", POOL_WF(w),
	       LF_STR("ContainerUUID", r->uuid));
	pool_exited_add(p, r->uuid);
	pool_runner_close(r);
	w->updated = pool_now(p);
	if (w->state == SCHED_W_RUNNING && w->n_run == 0)
		w->state = SCHED_W_IDLE;
}

/* The instance is gone: its runners are abandoned, not exited (5.6). */
void
pool_runner_abandon_all(struct pool_worker *w)
{
	while (w->n_run > 0) {
		struct pool_runner *r = w->run[w->n_run - 1];

		log_kv(LOG_LVL_INFO, "crunch-run process abandoned", POOL_WF(w),
		       LF_STR("ContainerUUID", r->uuid));
		pool_runner_close(r);
	}
}

/* ---------------------------------------------------------------- start (5.9) */

struct pool_startop {
	struct pool_runner *r;
	struct pool *p;
	int64_t created_at;
};

static void
pool_start_done(void *arg, const struct pool_ssh_result *res)
{
	struct pool_startop *op = arg;
	struct pool_runner *r = op->r;
	struct pool *p = op->p;

	if (pool_call_end(p) || !r->w)
		goto out;
	struct pool_worker *w = r->w;

	if (res->outcome != POOL_SSH_OK) {
		log_kv_err(LOG_LVL_ERROR, "error starting crunch-run process", res->message,
			   POOL_WF(w), LF_STR("ContainerUUID", r->uuid),
			   LF_STR("stdout", res->out ? res->out : ""),
			   LF_STR("stderr", res->err ? res->err : ""));
		if (res->outcome == POOL_SSH_UNVERIFIED)
			w->verified = false;
	} else {
		log_kv(LOG_LVL_INFO, "crunch-run process started", POOL_WF(w),
		       LF_STR("ContainerUUID", r->uuid));
	}
	if (op->created_at > 0)
		pool_metrics_observe(p, p->m_q2cr, NULL,
				     (double)(pool_now(p) - op->created_at) / 1e9);
	if (!r->running) {
		r->running = true;
		w->updated = w->busy = pool_now(p);
		strcpy(w->last_uuid, r->uuid);
	}
out:
	pool_runner_unref(r);
	free(op);
	pool_maybe_free(p);
}

bool
pool_start(struct pool *p, const char *id, const char *uuid, const struct res_vec *need,
	   int64_t keep_buffers, int64_t created_at)
{
	struct pool_worker *w = pool_worker_find(p, id);
	struct pool_startop *op;
	struct pool_runner *r;
	char *payload;

	if (p->closing || !w || w->idle != SCHED_IDLE_RUN ||
	    (w->state != SCHED_W_IDLE && w->state != SCHED_W_RUNNING) || pool_runner_find(w, uuid))
		return false;
	if (!(op = calloc(1, sizeof(*op))))
		return false;
	if (!(payload = pool_start_payload(p, w, uuid, keep_buffers)) ||
	    !(r = pool_runner_add(w, uuid, false))) {
		adc_free_secret_str(payload);
		free(op);
		return false;
	}
	if (need) {
		r->need = *need;
		r->need_known = true;
	}
	op->r = r;
	op->p = p;
	op->created_at = created_at;
	r->refs++;
	enum sched_wstate was = w->state;

	w->state = SCHED_W_RUNNING;
	w->updated = pool_now(p);
	struct pool_ssh_start s = {
		.instance_id = w->id,
		.uuid = uuid,
		.runtime_engine = p->cl->containers.runtime_engine,
		.args = (const char *const *)p->cl->containers.crunch_run_arguments,
		.nargs = p->cl->containers.n_crunch_run_arguments,
		.payload = payload,
		.payload_len = strlen(payload),
	};
	pool_call_begin(p);
	int rc = p->o.ssh.start(p->o.ssh.ctx, &s, pool_ssh_timeout_ms(p), pool_start_done, op);

	if (rc < 0) {
		char why[160];
		struct pool_ssh_result e = { .outcome = POOL_SSH_FAILED,
					     .exit_status = -1,
					     .message = pool_refused_why(why, sizeof(why), rc) };

		pool_start_done(op, &e);
	}
	adc_free_secret_str(payload);
	if (was != SCHED_W_RUNNING)
		pool_changed(p);
	return true;
}

/* ---------------------------------------------------------------- kill (5.11) */

static void
pool_kill_rearm(struct pool *p)
{
	int64_t next = 0, now = pool_now(p);

	if (p->closing)
		return;
	for (struct pool_runner *r = p->kills; r; r = r->kill_next)
		if (!r->kill_in_flight && (next == 0 || r->next_signal < next))
			next = r->next_signal;
	if (next) {
		uint64_t ms = next > now ? pool_ms(next - now) : 0;

		uv_timer_start(&p->kill_timer, pool_kill_timer_cb, ms, 0);
	}
}

static void
pool_kill_unlist(struct pool *p, struct pool_runner *r)
{
	for (struct pool_runner **pp = &p->kills; *pp; pp = &(*pp)->kill_next) {
		if (*pp == r) {
			*pp = r->kill_next;
			r->kill_next = NULL;
			return;
		}
	}
}

struct pool_killop {
	struct pool_runner *r;
	struct pool *p;
};

static void
pool_kill_done(void *arg, const struct pool_ssh_result *res)
{
	struct pool_killop *op = arg;
	struct pool_runner *r = op->r;
	struct pool *p = op->p;

	r->kill_in_flight = false;
	if (pool_call_end(p) || !r->w)
		goto out;
	struct pool_worker *w = r->w;

	if (res->outcome != POOL_SSH_OK) {
		log_kv_err(LOG_LVL_INFO, "kill attempt unsuccessful", res->message, POOL_WF(w),
			   LF_STR("ContainerUUID", r->uuid));
		if (res->outcome == POOL_SSH_UNVERIFIED)
			w->verified = false;
	} else {
		/* fix (weakness 12): a successful kill ends the runner even if still "starting"
		 * (the process is gone or never existed; the start's answer changes nothing). */
		pool_kill_unlist(p, r);
		pool_runner_ended(r);
		pool_shutdown_if_idle(w);
		pool_changed(p);
	}
out:
	pool_kill_rearm(p);
	pool_runner_unref(r);
	free(op);
	pool_maybe_free(p);
}

static void
pool_kill_unkillable(struct pool_runner *r)
{
	struct pool_worker *w = r->w;

	r->given_up = true;
	if (w->idle == SCHED_IDLE_HOLD) {
		log_kv(LOG_LVL_WARN, "unkillable container, but worker has IdleBehavior=Hold",
		       POOL_WF(w), LF_STR("ContainerUUID", r->uuid));
	} else {
		log_kv(LOG_LVL_WARN, "unkillable container, draining worker", POOL_WF(w),
		       LF_STR("ContainerUUID", r->uuid));
		w->idle = SCHED_IDLE_DRAIN;
		pool_tags_save(w);
	}
	pool_shutdown_if_idle(w);
}

/* One step of r's series: stop, give up, or send SIGTERM. */
static void
pool_kill_step(struct pool *p, struct pool_runner *r, int64_t now)
{
	struct pool_killop *op;

	if (now - r->kill_start >= p->vm->timeout_term) {
		pool_kill_unkillable(r);
		pool_kill_unlist(p, r);
		return;
	}
	r->next_signal = now + p->vm->timeout_signal;
	if (!(op = calloc(1, sizeof(*op))))
		return;
	op->r = r;
	op->p = p;
	r->refs++;
	r->kill_in_flight = true;
	log_kv(LOG_LVL_INFO, "sending signal", POOL_WF(r->w), LF_STR("ContainerUUID", r->uuid),
	       LF_INT("Signal", 15));
	pool_call_begin(p);
	int rc = p->o.ssh.kill(p->o.ssh.ctx, r->w->id, r->uuid, 15, pool_ssh_timeout_ms(p),
			       pool_kill_done, op);

	if (rc < 0) {
		char why[160];
		struct pool_ssh_result e = { .outcome = POOL_SSH_FAILED,
					     .exit_status = -1,
					     .message = pool_refused_why(why, sizeof(why), rc) };

		pool_kill_done(op, &e);
	}
}

void
pool_kill_timer_cb(uv_timer_t *t)
{
	struct pool *p = t->data;
	int64_t now = pool_now(p);
	struct pool_runner *due[64];
	size_t n = 0;

	if (!dispatch_gate_open())
		return; /* standby: pool_gate_resume restarts the kills (issue 15) */
	/* Collect first: a step may remove runners from the list. */
	for (struct pool_runner *r = p->kills; r && n < 64; r = r->kill_next) {
		if (!r->kill_in_flight && r->next_signal <= now)
			due[n++] = r;
	}
	/* A step affects only its own runner, which stays owned by its worker meanwhile (a
	 * closed runner leaves the list at once). */
	for (size_t i = 0; i < n && !p->closing; i++)
		pool_kill_step(p, due[i], now);
	pool_kill_rearm(p);
}

bool
pool_kill_container(struct pool *p, const char *uuid, const char *reason)
{
	struct pool_runner *r = NULL;

	for (size_t i = 0; !r && i < p->n_workers; i++)
		r = pool_runner_find(p->workers[i], uuid);
	if (!r) {
		log_kv(LOG_LVL_DEBUG, "cannot kill: already disappeared",
		       LF_STR("ContainerUUID", uuid));
		return false;
	}
	if (r->killing || p->closing)
		return true; /* once per runner */
	r->killing = true;
	r->kill_start = pool_now(p);
	r->next_signal = r->kill_start;
	r->kill_reason = strdup(reason ? reason : "");
	log_kv(LOG_LVL_INFO, "killing crunch-run process", POOL_WF(r->w),
	       LF_STR("ContainerUUID", uuid), LF_STR("Reason", reason ? reason : ""));
	r->kill_next = p->kills;
	p->kills = r;
	uv_timer_start(&p->kill_timer, pool_kill_timer_cb, 0, 0); /* first one at once */
	return true;
}
