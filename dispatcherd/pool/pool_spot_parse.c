/* pool_spot_parse.c - the spot check's line into a struct pool_spot (pool_spot_parse.h). */
#include "pool_spot_parse.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SPOT_PREFIX "adc-spot "

/* A three-digit HTTP status as curl's %{http_code} prints it ("000": nothing answered). */
static bool
spot_status(const char *s)
{
	return strlen(s) == 3 && strspn(s, "0123456789") == 3;
}

/* Only what EC2 documents becomes a label; anything else is "other". */
static void
spot_action(const char *a, struct pool_spot *s)
{
	static const char *const known[] = { "terminate", "stop", "hibernate" };

	snprintf(s->action, sizeof(s->action), "other");
	for (size_t i = 0; a && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(a, known[i]) == 0)
			snprintf(s->action, sizeof(s->action), "%s", known[i]);
}

static void
spot_time(const char *t, struct pool_spot *s)
{
	size_t n = t ? strlen(t) : 0;

	s->time[0] = 0;
	if (n > 0 && n < 36 &&
	    strspn(t, "0123456789:.+-abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n)
		snprintf(s->time, sizeof(s->time), "%s", t);
}

/* The notice's JSON body, {"action": "terminate", "time": "2026-...Z"}. */
static void
spot_notice(const char *body, struct pool_spot *s)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "action");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "time");

	if (!cJSON_IsObject(j) || !cJSON_IsString(a)) {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "instance-action answered 200 without a notice");
	} else {
		s->kind = POOL_SPOT_NOTICE;
		spot_action(a->valuestring, s);
		spot_time(cJSON_IsString(t) ? t->valuestring : NULL, s);
	}
	cJSON_Delete(j);
}

/* "<body> <status>" (the lines "action" and "events"): the status is the last word, the body
 * what precedes it ("" when none); rest is cut there. NULL, with s an error, without a
 * status. */
static const char *
spot_split_status(char *rest, const char **body, struct pool_spot *s)
{
	char *sp = strrchr(rest, ' ');
	const char *status = sp ? sp + 1 : rest;

	if (!spot_status(status)) {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "spot check line without an HTTP status");
		return NULL;
	}
	if (sp)
		*sp = 0;
	*body = sp ? rest : "";
	return status;
}

/* "action <body> <status>" (EC2): 404 is no notice, 200 the notice. */
static void
spot_action_line(char *rest, struct pool_spot *s)
{
	const char *body, *status = spot_split_status(rest, &body, s);

	if (status == NULL)
		return;
	if (strcmp(status, "404") == 0) {
		s->kind = POOL_SPOT_NONE;
	} else if (strcmp(status, "200") == 0) {
		spot_notice(body, s);
	} else {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "instance-action answered HTTP %s", status);
	}
}

/* Azure's NotBefore, an RFC 1123 date ("Mon, 19 Sep 2016 18:29:47 GMT"), as RFC 3339 like
 * EC2's time, so that the log and the management API show one format; "" when blank (the
 * event has started) or anything else. The C locale's day and month names: dispatcherd never
 * calls setlocale. */
static void
spot_not_before(const char *t, struct pool_spot *s)
{
	struct tm tm;
	const char *end;

	s->time[0] = 0;
	memset(&tm, 0, sizeof(tm));
	end = t ? strptime(t, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
	if (end && *end == 0 && tm.tm_year >= 0 && tm.tm_year < 8000)
		strftime(s->time, sizeof(s->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Whether one of the event's Resources is this VM (Azure delivers an availability set's
 * events to all its VMs: Resources says which one goes). Names are case-insensitive there. */
static bool
spot_event_mine(const cJSON *ev, const char *vm)
{
	const cJSON *r;

	if (vm == NULL || vm[0] == 0)
		return false;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ev, "Resources"))
	{
		if (cJSON_IsString(r) && strcasecmp(r->valuestring, vm) == 0)
			return true;
	}
	return false;
}

/*
 * The Scheduled Events document, {"DocumentIncarnation": n, "Events": [...]}. Only a Preempt
 * event (a Spot eviction, at least 30 s ahead) naming this VM is a notice: Terminate is a
 * deletion someone asked for (the dispatcher's own, or a scale set's scale-in) and Reboot,
 * Redeploy, Freeze give the VM back, so they drain nothing (docs/POOL.md).
 */
static void
spot_events(const char *body, const char *vm, struct pool_spot *s)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *evs = cJSON_GetObjectItemCaseSensitive(j, "Events"), *ev;

	if (!cJSON_IsObject(j) || !cJSON_IsArray(evs)) {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why),
			 "scheduledevents answered 200 without an Events list");
		cJSON_Delete(j);
		return;
	}
	s->kind = POOL_SPOT_NONE;
	cJSON_ArrayForEach(ev, evs)
	{
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "EventType");

		if (cJSON_IsObject(ev) && cJSON_IsString(type) &&
		    strcmp(type->valuestring, "Preempt") == 0 && spot_event_mine(ev, vm)) {
			const cJSON *nb = cJSON_GetObjectItemCaseSensitive(ev, "NotBefore");

			s->kind = POOL_SPOT_NOTICE;
			snprintf(s->action, sizeof(s->action), "preempt");
			spot_not_before(cJSON_IsString(nb) ? nb->valuestring : NULL, s);
			break;
		}
	}
	cJSON_Delete(j);
}

/* "events <body> <status>" (Azure): as "action", the status last; 200 is the document. */
static void
spot_events_line(char *rest, const char *vm, struct pool_spot *s)
{
	const char *body, *status = spot_split_status(rest, &body, s);

	if (status == NULL)
		return;
	if (strcmp(status, "200") == 0) {
		spot_events(body, vm, s);
	} else {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "scheduledevents answered HTTP %s", status);
	}
}

/* The VM's name, the last part of the Azure driver's instance id (an ARM resource id). */
static const char *
spot_vm_name(const char *id)
{
	const char *sl = id ? strrchr(id, '/') : NULL;

	return sl ? sl + 1 : id;
}

static void
spot_line(char *line, const char *id, struct pool_spot *s)
{
	char *w = line + strlen(SPOT_PREFIX);

	if (strcmp(w, "no-curl") == 0) {
		s->kind = POOL_SPOT_NO_CURL;
	} else if (strncmp(w, "token ", 6) == 0 && spot_status(w + 6)) {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "no IMDSv2 token (HTTP %s)", w + 6);
	} else if (strncmp(w, "action ", 7) == 0) {
		spot_action_line(w + 7, s);
	} else if (strncmp(w, "events ", 7) == 0) {
		spot_events_line(w + 7, spot_vm_name(id), s);
	} else {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "unrecognized spot check line");
	}
}

char *
pool_spot_take(char *out, const char *id, struct pool_spot *s)
{
	char *nl, *rest;

	memset(s, 0, sizeof(*s));
	if (strncmp(out, SPOT_PREFIX, strlen(SPOT_PREFIX)) != 0) {
		s->kind = POOL_SPOT_MISSING;
		snprintf(s->why, sizeof(s->why), "the probe printed no spot check line");
		return out;
	}
	/* The rest starts after the line, whatever parsing the line cuts inside it. */
	nl = strchr(out, '\n');
	rest = nl ? nl + 1 : out + strlen(out);
	if (nl)
		*nl = 0;
	spot_line(out, id, s);
	return rest;
}
