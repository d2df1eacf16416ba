/*
 * sched_status.c - the scheduling status strings of spec 4.6 (byte for byte: note the two
 * spaces after the first sentence) and the reason texts of 4.2/4.4.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scheduler.h"

const char *
sched_cstate_name(enum sched_cstate s)
{
	static const char *const names[] = {
		[SCHED_QUEUED] = "Queued",	 [SCHED_LOCKED] = "Locked",
		[SCHED_RUNNING] = "Running",	 [SCHED_COMPLETE] = "Complete",
		[SCHED_CANCELLED] = "Cancelled",
	};

	if ((unsigned)s < sizeof(names) / sizeof(names[0]) && names[s] != NULL)
		return names[s];
	return "Unknown";
}

const char *
sched_reason_text(enum sched_dreason r)
{
	static const char *const texts[] = {
		[SCHED_R_NONE] = "",
		[SCHED_R_OVERQUOTA] =
			"unlock because pool capacity is used by higher priority containers",
		[SCHED_R_PREVIOUS_ATTEMPT] =
			"crunch-run process from previous attempt has not exited",
		[SCHED_R_NOT_RUNNING] = "not running on any worker",
		[SCHED_R_RUNNING_AFTER_EXIT] = "state=Running after crunch-run exited",
		[SCHED_R_PRIORITY_ZERO] = "priority=0",
		[SCHED_R_STATE_COMPLETE] = "state=Complete",
		[SCHED_R_STATE_CANCELLED] = "state=Cancelled",
		[SCHED_R_QUEUED_BUT_RUNNING] = "pool says running, but queue says state=Queued",
		[SCHED_R_CRUNCH_RUN_EXITED] = "crunch-run exited",
		[SCHED_R_NOT_IN_QUEUE] = "not in queue",
		[SCHED_R_FINISHED] = "container finished -- dropping from queue",
		[SCHED_R_ON_HOLD] = "container on hold -- dropping from queue",
		[SCHED_R_UNSATISFIABLE] =
			"constraints not satisfiable by any configured instance type",
		[SCHED_R_STALE_LOCK] = "stale lock after restart",
	};

	if ((unsigned)r < sizeof(texts) / sizeof(texts[0]) && texts[r] != NULL)
		return texts[r];
	return "";
}

/* snprintf into buf at *at; -ENOSPC once it no longer fits. */
static int
sched_put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *at)
		return -ENOSPC;
	*at += (size_t)n;
	return 0;
}

/* AT_CAPACITY: "(<t1>, <t2>)" from the container's candidates. */
static int
sched_put_types(const struct cfg_cluster *cl, const struct sched_ctr *c, char *buf, size_t len,
		size_t *at)
{
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < c->n_types; i++) {
		const char *name = c->types[i] < cl->n_instance_types
					   ? cl->instance_types[c->types[i]].name
					   : "?";

		rc = sched_put(buf, len, at, "%s%s", i ? ", " : "", name);
	}
	return rc;
}

/* AT_BUDGET: millidollars as "$0.20" or "$0.096" (cents unless the price is finer). */
static int
sched_put_dollars(uint32_t milli, char *buf, size_t len, size_t *at)
{
	if (milli % 10 == 0)
		return sched_put(buf, len, at, "$%u.%02u", milli / 1000, milli % 1000 / 10);
	return sched_put(buf, len, at, "$%u.%03u", milli / 1000, milli % 1000);
}

int
sched_status_format(const struct cfg_cluster *cl, const struct sched_ctr *c,
		    const struct sched_status *st, char *buf, size_t len)
{
	size_t at = 0;
	int rc;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	switch ((enum sched_status_code)st->code) {
	case SCHED_ST_NONE:
		return 0;
	case SCHED_ST_PREPARING:
		rc = sched_put(buf, len, &at,
			       "Container is allocated to an instance and preparing to run.");
		break;
	case SCHED_ST_PRIORITY_ZERO:
		rc = sched_put(buf, len, &at,
			       "This container will not be scheduled to run because its "
			       "priority is 0 and state is %s.",
			       sched_cstate_name(c->state));
		break;
	case SCHED_ST_SUPERVISOR_LIMIT:
		rc = sched_put(buf, len, &at,
			       "Waiting in workflow queue at position %u.  Cluster is at "
			       "capacity and cannot start any new workflows right now.",
			       st->n);
		break;
	case SCHED_ST_WAITING_PREVIOUS:
		rc = sched_put(buf, len, &at, "Waiting for previous container attempt to exit.");
		break;
	case SCHED_ST_WAITING_NEW:
		rc = sched_put(buf, len, &at,
			       "Waiting for a %s instance to boot and be ready to accept "
			       "work.",
			       st->type < cl->n_instance_types ? cl->instance_types[st->type].name
							       : "?");
		break;
	case SCHED_ST_AT_CAPACITY:
		rc = sched_put(buf, len, &at,
			       "Waiting in queue at position %u.  Cluster is at capacity "
			       "for all eligible instance types (",
			       st->n);
		if (rc == 0)
			rc = sched_put_types(cl, c, buf, len, &at);
		if (rc == 0)
			rc = sched_put(buf, len, &at,
				       ") and cannot start a new instance right now.");
		break;
	case SCHED_ST_AT_QUOTA:
		rc = sched_put(buf, len, &at,
			       "Waiting in queue at position %u.  Cluster is at cloud "
			       "account limits and cannot start any new instances right now.",
			       st->n);
		break;
	case SCHED_ST_CLUSTER_CAPACITY:
		rc = sched_put(buf, len, &at,
			       "Waiting in queue at position %u.  Cluster is at capacity "
			       "and cannot start any new instances right now.",
			       st->n);
		break;
	case SCHED_ST_AT_BUDGET:
		rc = sched_put(buf, len, &at, "Waiting for budget: hourly spend ");
		if (rc == 0)
			rc = sched_put_dollars(st->n, buf, len, &at);
		if (rc == 0)
			rc = sched_put(buf, len, &at, " of cap ");
		if (rc == 0)
			rc = sched_put_dollars(st->type, buf, len, &at);
		if (rc == 0)
			rc = sched_put(buf, len, &at,
				       ".  Cluster is at its hourly spend cap and cannot start "
				       "any new instances right now.");
		break;
	default:
		return -EINVAL;
	}
	if (rc < 0) {
		buf[0] = '\0';
		return rc;
	}
	return (int)at;
}
