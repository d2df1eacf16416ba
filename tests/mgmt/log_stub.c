/*
 * log_stub.c - a test-only stand-in for common/log.c while that is written in parallel: the
 * same API, one line per entry on stderr (msg and fields as key=value). Linked only when
 * common/log.c is absent (tests/mgmt/CMakeLists.txt).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static enum log_level min_level = LOG_LVL_INFO;

void
log_init(const char *proc, enum log_format fmt, enum log_level level)
{
	(void)proc, (void)fmt;
	min_level = level;
}

void
log_set_cluster_id(const char *cluster_id)
{
	(void)cluster_id;
}
void
log_set_journal(bool on)
{
	(void)on;
}

int
log_format_parse(const char *s)
{
	return !strcasecmp(s, "json") ? LOG_FMT_JSON : !strcasecmp(s, "text") ? LOG_FMT_TEXT : -1;
}

int
log_level_parse(const char *s)
{
	static const char *const n[] = { "trace", "debug", "info", "warn", "error", "fatal" };
	for (int i = 0; i < 6; i++)
		if (!strcasecmp(s, n[i]))
			return i;
	return -1;
}

bool
log_enabled(enum log_level level)
{
	/* MGMT_LOG_DEBUG=1 shows libmicrohttpd's own messages when a test fails. */
	if (getenv("MGMT_LOG_DEBUG"))
		return true;
	return level >= min_level;
}

void
log_emit_err(enum log_level level, const char *msg, const char *error, const struct log_field *f)
{
	if (!log_enabled(level))
		return;
	fprintf(stderr, "level=%d msg=\"%s\"", (int)level, msg);
	for (; f && f->key; f++) {
		switch (f->type) {
		case LF_T_STR:
			fprintf(stderr, " %s=\"%s\"", f->key, f->v.s ? f->v.s : "");
			break;
		case LF_T_INT:
			fprintf(stderr, " %s=%lld", f->key, (long long)f->v.i);
			break;
		case LF_T_DBL:
			fprintf(stderr, " %s=%g", f->key, f->v.d);
			break;
		case LF_T_BOOL:
			fprintf(stderr, " %s=%s", f->key, f->v.b ? "true" : "false");
			break;
		default:
			break;
		}
	}
	if (error)
		fprintf(stderr, " error=\"%s\"", error);
	fputc('\n', stderr);
}

void
log_emit(enum log_level level, const char *msg, const struct log_field *fields)
{
	log_emit_err(level, msg, NULL, fields);
}

void
log_msgf(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_emit_err(level, buf, NULL, NULL);
}
