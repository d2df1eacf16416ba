/*
 * log_text.c - one entry as one "key=value" line (SystemLogs.Format "text").
 *
 * time=2025-01-02T03:04:05.000000000Z level=info msg="adding container to queue" PID=42 ...
 * Same keys and order as the JSON format. A value is quoted when it is empty or holds a
 * space, '"', '=', '\\' or a control character (so a line can always be split back into
 * pairs); inside quotes '"' and '\\' are backslash-escaped and control characters become
 * \n, \r, \t or \xNN, so one entry is always one line.
 */
#include "log_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool
log_text_needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '=' || *p == '\\')
			return true;
	return false;
}

static void
log_text_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < ' ' || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void
log_text_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, " %s=", key);
	if (log_text_needs_quotes(v))
		log_text_quoted(f, v);
	else
		fputs(v, f);
}

/* Shortest of %.15g / %.17g that reads back as the same double, like cJSON does. */
static void
log_text_dbl(FILE *f, const char *key, double d)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	fprintf(f, " %s=%s", key, buf);
}

static void
log_text_field(FILE *f, const struct log_field *fl)
{
	switch (fl->type) {
	case LF_T_STR:
		log_text_str(f, fl->key, fl->v.s ? fl->v.s : "<nil>");
		break;
	case LF_T_INT:
		fprintf(f, " %s=%" PRId64, fl->key, fl->v.i);
		break;
	case LF_T_DBL:
		log_text_dbl(f, fl->key, fl->v.d);
		break;
	case LF_T_BOOL:
		fprintf(f, " %s=%s", fl->key, fl->v.b ? "true" : "false");
		break;
	default:
		break;
	}
}

char *
log_text_line(const struct log_entry *e)
{
	char ts[40], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	log_format_time(&e->ts, ts, sizeof(ts));
	fprintf(f, "time=%s level=%s", ts, log_level_name(e->level));
	log_text_str(f, "msg", e->msg);
	fprintf(f, " PID=%ld", (long)getpid());
	if (log_g.cluster_id[0] != '\0')
		log_text_str(f, "ClusterID", log_g.cluster_id);
	for (const struct log_field *fl = e->fields; fl && fl->type != LF_T_END; fl++)
		if (fl->key != NULL)
			log_text_field(f, fl);
	if (e->error != NULL)
		log_text_str(f, "error", e->error);
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
