/* api_limiter.c - see api_limiter.h. */
#include "api_limiter.h"

void
api_limiter_init(struct api_limiter *l, int64_t max_concurrent_requests)
{
	int64_t max = max_concurrent_requests > 0 ? max_concurrent_requests / 4 : 0;

	if (max_concurrent_requests > 0 && max < 1)
		max = 1;
	/* The cap applies from the start (the reference only applies it on growth, so a server
	 * configured for fewer than 32 requests would still see 8 at once). */
	*l = (struct api_limiter){
		.limit = max > 0 && max < API_LIMITER_INITIAL ? max : API_LIMITER_INITIAL,
		.max_limit = max,
	};
	l->peak_limit = l->limit;
}

bool
api_limiter_may_start(const struct api_limiter *l, uint64_t now_ms)
{
	if (now_ms < l->quiet_until)
		return false;
	return l->limit == 0 || l->in_flight < l->limit;
}

uint64_t
api_limiter_wait_ms(const struct api_limiter *l, uint64_t now_ms)
{
	return now_ms < l->quiet_until ? l->quiet_until - now_ms : 0;
}

void
api_limiter_acquire(struct api_limiter *l)
{
	l->in_flight++;
	if (l->in_flight > l->peak_in_flight)
		l->peak_in_flight = l->in_flight;
}

void
api_limiter_release(struct api_limiter *l)
{
	if (l->in_flight > 0)
		l->in_flight--;
}

static void
api_limiter_set(struct api_limiter *l, int64_t limit)
{
	l->limit = limit;
	if (limit > l->peak_limit)
		l->peak_limit = limit;
}

static void
api_limiter_on_503(struct api_limiter *l, uint64_t now_ms)
{
	if (l->limit == 0)
		api_limiter_set(l, l->in_flight > 0 ? l->in_flight : 1);
	/* Further 503s inside the quiet period come from requests started before the first one
	 * was seen: they say nothing new, so they do not halve again. */
	if (now_ms >= l->quiet_until) {
		api_limiter_set(l, (l->limit + 1) / 2);
		l->quiet_until = now_ms + API_LIMITER_QUIET_MS;
	}
}

static void
api_limiter_on_success(struct api_limiter *l)
{
	int64_t inc, limit;

	if (l->limit == 0)
		return;
	inc = l->limit / 10;
	limit = l->limit + (inc < 1 ? 1 : inc);
	/* Not beyond twice the highest concurrency seen working, nor the configured cap. */
	if (limit > 2 * l->in_flight)
		limit = 2 * l->in_flight;
	if (l->max_limit > 0 && limit > l->max_limit)
		limit = l->max_limit;
	if (limit < 1)
		limit = 1;
	api_limiter_set(l, limit);
}

bool
api_limiter_report(struct api_limiter *l, long status, uint64_t now_ms)
{
	if (status == 503) {
		api_limiter_on_503(l, now_ms);
		return true;
	}
	if (status >= 200 && status < 400)
		api_limiter_on_success(l);
	return false;
}
