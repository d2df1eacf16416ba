/*
 * pool_probe.c - probing a worker (5.7): verify the session, boot probe, runner deployment,
 * run probe, one asynchronous chain per worker. Applying the result is pool_probe_apply.c.
 */
#include "pool_internal.h"
#include "pool_probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pool_probe_run(struct pool_probe *pr);

static void
pool_probe_free(struct pool_probe *pr)
{
	struct pool *p = pr->p;

	pr->w->probing = false;
	pool_worker_unref(pr->w);
	free(pr->boot_stderr);
	free(pr->boot_err);
	free(pr->out);
	free(pr);
	pool_maybe_free(p);
}

/* Begin one port call of the chain; on refusal the callback runs now with a failure. */
static void
pool_probe_call(struct pool_probe *pr, int rc, pool_ssh_cb cb)
{
	if (rc < 0) {
		char why[160];
		struct pool_ssh_result e = { .outcome = POOL_SSH_FAILED,
					     .exit_status = -1,
					     .message = pool_refused_why(why, sizeof(why), rc) };

		cb(pr, &e);
	}
}

const char *
pool_refused_why(char *buf, size_t len, int rc)
{
	snprintf(buf, len, "ssh port refused the call: %s%s", strerror(-rc),
		 rc == -EAGAIN ? " (sshd-pool is not ready)" : "");
	return buf;
}

/* True when the chain must stop (pool closing, worker removed); frees pr then. */
static bool
pool_probe_stop(struct pool_probe *pr)
{
	if (pool_call_end(pr->p) || pr->w->removed) {
		pool_probe_free(pr);
		return true;
	}
	return false;
}

static void
pool_probe_note_ssh(struct pool_probe *pr, const struct pool_ssh_result *r)
{
	if (r->outcome == POOL_SSH_UNVERIFIED || r->outcome == POOL_SSH_HOSTKEY_CHANGED ||
	    r->outcome == POOL_SSH_BAD_SECRET)
		pr->w->verified = false;
}

static void
pool_probe_run_done(void *arg, const struct pool_ssh_result *r)
{
	struct pool_probe *pr = arg;
	struct pool *p = pr->p;

	if (pool_probe_stop(pr))
		return;
	pool_probe_note_ssh(pr, r);
	double dur = (double)(pool_now(p) - pr->run_started) / 1e9;

	pr->ok = r->outcome == POOL_SSH_OK;
	if (!pr->ok) {
		log_kv_err(LOG_LVL_WARN, "probe failed", r->message, POOL_WF(pr->w),
			   LF_STR("Command", "crunch-run --list"),
			   LF_STR("stdout", r->out ? r->out : ""),
			   LF_STR("stderr", r->err ? r->err : ""));
		pool_metrics_observe(p, p->m_probe_dur, "fail", dur);
	} else {
		log_kv(LOG_LVL_DEBUG, "probe succeeded", POOL_WF(pr->w));
		pool_metrics_observe(p, p->m_probe_dur, "success", dur);
		pr->out = malloc(r->out_len + 1);
		if (pr->out) {
			memcpy(pr->out, r->out, r->out_len);
			pr->out[r->out_len] = 0;
		} else {
			pr->ok = false;
		}
	}
	pool_probe_apply(pr);
	pool_probe_free(pr);
}

static void
pool_probe_run(struct pool_probe *pr)
{
	struct pool *p = pr->p;
	struct pool_worker *w = pr->w;
	char *prices = w->n_prices ? pool_prices_json(w) : NULL;

	pr->run_started = pool_now(p);
	pr->spot = pool_spot_wanted(w);
	pool_call_begin(p);
	pool_probe_call(pr,
			p->o.ssh.run_probe(p->o.ssh.ctx, w->id, prices, prices ? strlen(prices) : 0,
					   pr->spot, pool_ssh_timeout_ms(p), pool_probe_run_done,
					   pr),
			pool_probe_run_done);
	free(prices);
}

/* Not booted and not unknown: the run probe is skipped; apply the failure. */
static void
pool_probe_give_up(struct pool_probe *pr)
{
	pr->ok = false;
	pool_probe_apply(pr);
	pool_probe_free(pr);
}

static void
pool_probe_after_deploy(struct pool_probe *pr)
{
	if (pr->booted)
		log_kv(LOG_LVL_INFO, "instance booted; will try probeRunning", POOL_WF(pr->w));
	if (pr->booted || pr->state0 == SCHED_W_UNKNOWN)
		pool_probe_run(pr);
	else
		pool_probe_give_up(pr);
}

static void
pool_probe_deploy_done(void *arg, const struct pool_ssh_result *r)
{
	struct pool_probe *pr = arg;

	if (pool_probe_stop(pr))
		return;
	pool_probe_note_ssh(pr, r);
	if (r->outcome != POOL_SSH_OK) {
		log_kv_err(LOG_LVL_WARN, "error copying runner binary", r->message, POOL_WF(pr->w),
			   LF_STR("stderr", r->err ? r->err : ""),
			   LF_INT("ExitStatus", r->exit_status));
		pr->booted = false;
	}
	pool_probe_after_deploy(pr);
}

/* 5.7.2: when booted, or always for unknown workers (their runner may be missing). */
static void
pool_probe_deploy(struct pool_probe *pr)
{
	struct pool *p = pr->p;

	if (!p->o.runner_md5 || !p->o.runner_md5[0] ||
	    !(pr->booted || pr->state0 == SCHED_W_UNKNOWN)) {
		pool_probe_after_deploy(pr);
		return;
	}
	pool_call_begin(p);
	pool_probe_call(pr,
			p->o.ssh.deploy(p->o.ssh.ctx, pr->w->id, pool_ssh_timeout_ms(p),
					pool_probe_deploy_done, pr),
			pool_probe_deploy_done);
}

static char *
pool_strndup0(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d && n)
		memcpy(d, s, n);
	if (d)
		d[n] = 0;
	return d;
}

static void
pool_probe_boot_done(void *arg, const struct pool_ssh_result *r)
{
	struct pool_probe *pr = arg;
	const char *cmd = pr->p->vm->boot_probe_command;

	if (pool_probe_stop(pr))
		return;
	pool_probe_note_ssh(pr, r);
	pr->booted = r->outcome == POOL_SSH_OK;
	if (pr->booted) {
		log_kv(LOG_LVL_INFO, "boot probe succeeded", POOL_WF(pr->w),
		       LF_STR("Command", cmd ? cmd : "true"));
	} else {
		/* Expected while booting: no address, network errors, non-zero exit. */
		bool expected = r->outcome == POOL_SSH_EXIT || r->outcome == POOL_SSH_CONNECT ||
				r->outcome == POOL_SSH_TIMEOUT || r->outcome == POOL_SSH_NO_ADDRESS;

		log_kv_err(expected ? LOG_LVL_DEBUG : LOG_LVL_WARN, "boot probe failed", r->message,
			   POOL_WF(pr->w), LF_STR("Command", cmd ? cmd : "true"));
		free(pr->boot_stderr);
		free(pr->boot_err);
		pr->boot_stderr = pool_strndup0(r->err ? r->err : "", r->err ? r->err_len : 0);
		pr->boot_err = strdup(r->message ? r->message : "");
		/* A concurrent change took it to idle/running: it booted (5.7.1). */
		if (pr->w->state == SCHED_W_IDLE || pr->w->state == SCHED_W_RUNNING) {
			pr->booted = true;
			pool_probe_run(pr);
			return;
		}
	}
	pool_probe_deploy(pr);
}

static void
pool_probe_after_verify(struct pool_probe *pr)
{
	struct pool *p = pr->p;

	if (pr->state0 == SCHED_W_IDLE || pr->state0 == SCHED_W_RUNNING) {
		pr->booted = true;
		pool_probe_run(pr);
		return;
	}
	pool_call_begin(p);
	pool_probe_call(pr,
			p->o.ssh.boot_probe(p->o.ssh.ctx, pr->w->id, pool_ssh_timeout_ms(p),
					    pool_probe_boot_done, pr),
			pool_probe_boot_done);
}

static void
pool_probe_verify_done(void *arg, const struct pool_ssh_result *r)
{
	struct pool_probe *pr = arg;
	struct pool_worker *w = pr->w;
	struct pool *p = pr->p;

	if (pool_probe_stop(pr))
		return;
	if (r->outcome == POOL_SSH_OK) {
		w->verified = true;
		if (!w->first_ssh) {
			w->first_ssh = pool_now(p);
			if (w->state == SCHED_W_BOOTING)
				pool_metrics_observe(p, p->m_ssh, NULL,
						     (double)(w->first_ssh - w->appeared) / 1e9);
		}
		pool_probe_after_verify(pr);
		return;
	}
	/* No session: the boot probe (or run probe) fails with the same reason. */
	if (pr->state0 == SCHED_W_UNKNOWN || pr->state0 == SCHED_W_BOOTING) {
		pool_call_begin(p);
		pool_probe_boot_done(pr, r);
	} else {
		pool_call_begin(p);
		pool_probe_run_done(pr, r);
	}
}

static void
pool_probe_verify(struct pool_probe *pr)
{
	struct pool *p = pr->p;
	struct pool_worker *w = pr->w;
	struct pool_ssh_result e = { .exit_status = -1 };

	pool_call_begin(p);
	if (!w->address || !w->address[0]) {
		e.outcome = POOL_SSH_NO_ADDRESS;
		e.message = "instance has no address";
	} else if (w->host_key) {
		/* The driver verifies the host key itself (5.13 b, loopback): its answer is final,
		 * the secret tag is not consulted. */
		char *vouched = NULL;

		if (asprintf(&vouched, "host-key %s", w->host_key) < 0) {
			e.outcome = POOL_SSH_FAILED;
			e.message = "out of memory";
		} else {
			pool_probe_call(pr,
					p->o.ssh.verify(p->o.ssh.ctx, w->id, w->address,
							w->user ? w->user : "", vouched,
							pool_ssh_timeout_ms(p),
							pool_probe_verify_done, pr),
					pool_probe_verify_done);
			free(vouched);
			return;
		}
	} else if (!w->secret) {
		e.outcome = POOL_SSH_BAD_SECRET;
		e.message = "instance has no secret tag: cannot verify its host key";
	} else {
		pool_probe_call(pr,
				p->o.ssh.verify(p->o.ssh.ctx, w->id, w->address,
						w->user ? w->user : "", w->secret,
						pool_ssh_timeout_ms(p), pool_probe_verify_done, pr),
				pool_probe_verify_done);
		return;
	}
	pool_probe_verify_done(pr, &e);
}

/* Start one probe of w (at most one at a time). */
void
pool_probe_worker(struct pool_worker *w)
{
	struct pool_probe *pr;

	if (w->probing || w->removed || w->state == SCHED_W_SHUTDOWN || w->p->closing)
		return;
	if (!(pr = calloc(1, sizeof(*pr))))
		return;
	pr->p = w->p;
	pr->w = w;
	pool_worker_ref(w);
	w->probing = true;
	pr->start = w->probe_started = pool_now(w->p);
	pr->updated0 = w->updated;
	pr->state0 = w->state;
	if (w->verified)
		pool_probe_after_verify(pr);
	else
		pool_probe_verify(pr);
}
