/*
 * log_json.c - one entry as one JSON line (SystemLogs.Format "json").
 *
 * Key order: time, level, msg, PID, ClusterID (when set), the entry's fields in the order
 * given, then error. cJSON does the escaping. Integers are emitted as raw decimal text
 * because cJSON keeps numbers as doubles, which would round int64 values above 2^53.
 */
#include "log_internal.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cJSON *
log_json_int(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cJSON_CreateRaw(buf);
}

static cJSON *
log_json_value(const struct log_field *f)
{
	switch (f->type) {
	case LF_T_STR:
		return f->v.s ? cJSON_CreateString(f->v.s) : cJSON_CreateNull();
	case LF_T_INT:
		return log_json_int(f->v.i);
	case LF_T_DBL:
		/* cJSON prints NaN and infinities as null, which keeps the line valid JSON. */
		return cJSON_CreateNumber(f->v.d);
	case LF_T_BOOL:
		return cJSON_CreateBool(f->v.b);
	default:
		return cJSON_CreateNull();
	}
}

/* Adds item under key; on failure item is freed here. 0 or -1. */
static int
log_json_add(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return -1;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

static int
log_json_fill(cJSON *o, const struct log_entry *e)
{
	char ts[40];
	int r = 0;

	log_format_time(&e->ts, ts, sizeof(ts));
	r |= log_json_add(o, "time", cJSON_CreateString(ts));
	r |= log_json_add(o, "level", cJSON_CreateString(log_level_name(e->level)));
	r |= log_json_add(o, "msg", cJSON_CreateString(e->msg));
	r |= log_json_add(o, "PID", log_json_int(getpid()));
	if (log_g.cluster_id[0] != '\0')
		r |= log_json_add(o, "ClusterID", cJSON_CreateString(log_g.cluster_id));
	for (const struct log_field *f = e->fields; f && f->type != LF_T_END; f++)
		if (f->key != NULL)
			r |= log_json_add(o, f->key, log_json_value(f));
	if (e->error != NULL)
		r |= log_json_add(o, "error", cJSON_CreateString(e->error));
	return r;
}

char *
log_json_line(const struct log_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char *s, *line = NULL;
	size_t n;

	if (o == NULL)
		return NULL;
	if (log_json_fill(o, e) != 0 || (s = cJSON_PrintUnformatted(o)) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_Delete(o);
	n = strlen(s);
	line = malloc(n + 2);
	if (line != NULL) {
		memcpy(line, s, n);
		line[n] = '\n';
		line[n + 1] = '\0';
	}
	cJSON_free(s);
	return line;
}
