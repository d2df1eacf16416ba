/* pool_spot_parse.c - the spot check's line into a struct pool_spot (pool_spot_parse.h). */
#include "pool_spot_parse.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/* "action <body> <status>": the status is the last word, the body what precedes it. */
static void
spot_action_line(char *rest, struct pool_spot *s)
{
	char *sp = strrchr(rest, ' ');
	const char *status = sp ? sp + 1 : rest;

	if (!spot_status(status)) {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "spot check line without an HTTP status");
		return;
	}
	if (sp)
		*sp = 0;
	if (strcmp(status, "404") == 0) {
		s->kind = POOL_SPOT_NONE;
	} else if (strcmp(status, "200") == 0) {
		spot_notice(sp ? rest : "", s);
	} else {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "instance-action answered HTTP %s", status);
	}
}

static void
spot_line(char *line, struct pool_spot *s)
{
	char *w = line + strlen(SPOT_PREFIX);

	if (strcmp(w, "no-curl") == 0) {
		s->kind = POOL_SPOT_NO_CURL;
	} else if (strncmp(w, "token ", 6) == 0 && spot_status(w + 6)) {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "no IMDSv2 token (HTTP %s)", w + 6);
	} else if (strncmp(w, "action ", 7) == 0) {
		spot_action_line(w + 7, s);
	} else {
		s->kind = POOL_SPOT_ERROR;
		snprintf(s->why, sizeof(s->why), "unrecognized spot check line");
	}
}

char *
pool_spot_take(char *out, struct pool_spot *s)
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
	spot_line(out, s);
	return rest;
}
