/*
 * azure_register.c - resource provider registration, as the reference's Go SDK does it
 * (go-autorest DoRetryWithRegistration; spec cloud-drivers.md 3.3).
 *
 * A subscription that never used a namespace (Microsoft.Compute, Microsoft.Network,
 * Microsoft.Storage) answers 409 MissingSubscriptionRegistration, naming the namespace in
 * error.details[0].target. The driver then registers it (POST /subscriptions/<sub>/providers/
 * <ns>/register?api-version=2016-09-01), polls GET /subscriptions/<sub>/providers/<ns> until
 * registrationState is Registered, and sends the refused request once more. As in the SDK, the
 * polls are bounded (here by the long-running-operation limit, 15 minutes by default, the
 * SDK's PollingDuration) and spaced by the driver's poll delay. Unlike the SDK, which registers
 * from every refused request, one registration per namespace is in flight, shared by every
 * request it refused, and a namespace this process registered is not registered again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure_int.h"
#include "log.h"

#define AZ_API_RESOURCES "2016-09-01"

enum { AZR_IDLE, AZR_REGISTERING, AZR_REGISTERED };

struct az_regwait {
	az_reg_cb cb;
	void *arg;
	char what[48];
	struct az_regwait *next;
};

struct az_reg {
	struct azure_driver *d;
	char ns[104];
	int state;
	int64_t deadline_ms;
	uv_timer_t *timer; /* between polls; closed at the driver's free */
	struct az_regwait *waiters;
	struct az_reg *next;
};

static void az_reg_answer(void *arg, const struct az_result *r);

static void
az_reg_finish(struct az_reg *r, const char *why)
{
	struct az_regwait *w = r->waiters, *n;
	struct drv_error e;

	r->waiters = NULL;
	r->state = why ? AZR_IDLE : AZR_REGISTERED;
	if (why)
		log_kv(LOG_LVL_WARN, "azure: resource provider registration failed",
		       LF_STR("namespace", r->ns), LF_STR("error", why));
	else
		log_kv(LOG_LVL_INFO, "azure: resource provider registered",
		       LF_STR("namespace", r->ns));
	for (; w; w = n) {
		n = w->next;
		if (why) {
			memset(&e, 0, sizeof(e));
			e.cls = DRV_ERR_OTHER;
			e.http_status = 409;
			snprintf(e.code, sizeof(e.code), "MissingSubscriptionRegistration");
			snprintf(e.text, sizeof(e.text),
				 "%s: failed auto registering Resource Provider %s: %s", w->what,
				 r->ns, why);
		}
		w->cb(w->arg, why ? &e : NULL);
		free(w);
	}
}

/* POST .../register (poll false) or GET the provider (poll true). */
static void
az_reg_send(struct az_reg *r, bool poll)
{
	struct azure_driver *d = r->d;
	char url[600];

	snprintf(url, sizeof(url), "%s/subscriptions/%s/providers/%s%s?api-version=%s", d->env.arm,
		 d->p.subscription, r->ns, poll ? "" : "/register", AZ_API_RESOURCES);
	if (az_call(d, poll ? "GET" : "POST", url, NULL, AZ_NO_CLASSIFY | AZ_NO_REGISTER,
		    poll ? "provider GET" : "provider register", NULL, az_reg_answer, r) < 0)
		az_reg_finish(r, "out of memory");
}

static void
az_reg_tick(uv_timer_t *t)
{
	struct az_reg *r = t->data;

	if (az_now_ms() > r->deadline_ms) {
		char why[96];

		snprintf(why, sizeof(why), "not registered within %ld s", r->d->lro_ms / 1000);
		az_reg_finish(r, why);
		return;
	}
	az_reg_send(r, true);
}

static void
az_reg_answer(void *arg, const struct az_result *res)
{
	struct az_reg *r = arg;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(res->doc, "registrationState");

	if (res->err.cls != DRV_OK) {
		az_reg_finish(r, res->err.text);
		return;
	}
	if (cJSON_IsString(st) && strcasecmp(st->valuestring, "Registered") == 0) {
		az_reg_finish(r, NULL);
		return;
	}
	uv_timer_start(r->timer, az_reg_tick, (uint64_t)r->d->poll_default_ms, 0);
}

static struct az_reg *
az_reg_get(struct azure_driver *d, const char *ns)
{
	struct az_reg *r;

	for (r = d->regs; r; r = r->next)
		if (strcasecmp(r->ns, ns) == 0)
			return r;
	if (!(r = calloc(1, sizeof(*r))) || !(r->timer = malloc(sizeof(*r->timer)))) {
		free(r);
		return NULL;
	}
	r->d = d;
	snprintf(r->ns, sizeof(r->ns), "%s", ns);
	uv_timer_init(d->loop, r->timer);
	r->timer->data = r;
	r->next = d->regs;
	d->regs = r;
	return r;
}

int
az_register_after(struct azure_driver *d, const char *body, size_t len, const char *what,
		  az_reg_cb cb, void *arg)
{
	char ns[104];
	struct az_reg *r;
	struct az_regwait *w;

	if (azure_missing_registration(body, len, ns, sizeof(ns)) < 0)
		return -1;
	if (!(r = az_reg_get(d, ns)))
		return -1;
	if (r->state == AZR_REGISTERED) { /* refused while our registration finished */
		cb(arg, NULL);
		return 0;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return -1;
	w->cb = cb;
	w->arg = arg;
	snprintf(w->what, sizeof(w->what), "%s", what);
	w->next = r->waiters;
	r->waiters = w;
	if (r->state == AZR_IDLE) {
		log_kv(LOG_LVL_INFO, "azure: registering resource provider",
		       LF_STR("namespace", ns));
		r->state = AZR_REGISTERING;
		r->deadline_ms = az_now_ms() + d->lro_ms;
		az_reg_send(r, false);
	}
	return 0;
}

static void
az_reg_timer_closed(uv_handle_t *h)
{
	free(h);
}

void
az_regs_free(struct azure_driver *d)
{
	struct az_reg *r, *n;

	for (r = d->regs; r; r = n) {
		n = r->next;
		uv_timer_stop(r->timer);
		uv_close((uv_handle_t *)r->timer, az_reg_timer_closed);
		for (struct az_regwait *w = r->waiters, *wn; w; w = wn) {
			wn = w->next;
			free(w);
		}
		free(r);
	}
	d->regs = NULL;
}
