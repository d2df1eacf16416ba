/*
 * uv_wait.c - wait for a condition on a libuv loop without sleeping past it (see uv_wait.h).
 *
 * The pass order that matters (libuv 1.44, src/unix/core.c uv_run): timers, pending, idle,
 * prepare, poll (timeout 0 when uv_stop() was called), check, closing handles; in 1.45+ the
 * timers run after the closing handles instead. Whatever step completes the condition, the
 * next prepare or check callback sees it; uv_stop() there makes the poll return at once, and
 * the handles closed there are released in the same pass (1.44) or the next one (1.45+, which
 * is why the close is finished with UV_RUN_NOWAIT passes, never with a mode that may sleep).
 */
#include "uv_wait.h"

struct uvw {
	uv_loop_t *loop;
	uvw_pred done;
	void *arg;
	uv_prepare_t prepare;
	uv_check_t check;
	uv_timer_t guard;
	int open; /* handles whose close callback has not run yet */
	bool finishing;
	bool timed_out;
};

static void
uvw_closed(uv_handle_t *h)
{
	struct uvw *w = h->data;

	w->open--;
}

static void
uvw_finish(struct uvw *w)
{
	if (w->finishing)
		return;
	w->finishing = true;
	uv_close((uv_handle_t *)&w->prepare, uvw_closed);
	uv_close((uv_handle_t *)&w->check, uvw_closed);
	uv_close((uv_handle_t *)&w->guard, uvw_closed);
	uv_stop(w->loop);
}

static void
uvw_prepare_cb(uv_prepare_t *p)
{
	struct uvw *w = p->data;

	if (w->done(w->arg))
		uvw_finish(w);
}

static void
uvw_check_cb(uv_check_t *c)
{
	struct uvw *w = c->data;

	if (w->done(w->arg))
		uvw_finish(w);
}

static void
uvw_guard_cb(uv_timer_t *t)
{
	struct uvw *w = t->data;

	if (!w->done(w->arg))
		w->timed_out = true;
	uvw_finish(w);
}

int
uvw_run_until(uv_loop_t *loop, uvw_pred done, void *arg, uint64_t timeout_ms)
{
	struct uvw w = { .loop = loop, .done = done, .arg = arg };

	if (done(arg))
		return 0;
	if (timeout_ms == 0)
		return UV_ETIMEDOUT;
	uv_prepare_init(loop, &w.prepare);
	uv_check_init(loop, &w.check);
	uv_timer_init(loop, &w.guard);
	w.prepare.data = w.check.data = w.guard.data = &w;
	w.open = 3;
	uv_prepare_start(&w.prepare, uvw_prepare_cb);
	uv_check_start(&w.check, uvw_check_cb);
	uv_update_time(loop);
	uv_timer_start(&w.guard, uvw_guard_cb, timeout_ms, 0);
	/*
	 * UV_RUN_DEFAULT returns only after uv_stop(): the prepare and check handles keep the
	 * loop alive. A uv_stop() from someone else's callback just starts another round. Once
	 * finishing, the handles are closing and no longer keep the loop alive; only passes that
	 * cannot sleep are run then.
	 */
	while (w.open > 0)
		uv_run(loop, w.finishing ? UV_RUN_NOWAIT : UV_RUN_DEFAULT);
	return w.timed_out ? UV_ETIMEDOUT : 0;
}

static bool
uvw_true_pred(void *arg)
{
	return *(const bool *)arg;
}

int
uvw_until_true(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms)
{
	return uvw_run_until(loop, uvw_true_pred, (void *)flag, timeout_ms);
}

struct uvw_int {
	const int *n;
	int want;
};

static bool
uvw_int_pred(void *arg)
{
	const struct uvw_int *c = arg;

	return *c->n >= c->want;
}

int
uvw_until_int(uv_loop_t *loop, const int *n, int want, uint64_t timeout_ms)
{
	struct uvw_int c = { n, want };

	return uvw_run_until(loop, uvw_int_pred, &c, timeout_ms);
}

static bool
uvw_never(void *arg)
{
	(void)arg;
	return false;
}

void
uvw_run_for(uv_loop_t *loop, uint64_t ms)
{
	(void)uvw_run_until(loop, uvw_never, NULL, ms > 0 ? ms : 1);
}
