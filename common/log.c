/*
 * log.c - the log API's state, level filtering and dispatch to the sinks.
 *
 * Sinks: stderr (one JSON or text line per entry, written with a single write() so lines
 * from several processes sharing the stderr pipe never interleave below PIPE_BUF), or
 * journald natively (log_journal.c). When journald output is on we do NOT also write the
 * line to stderr: under systemd stderr is itself a journal stream, so writing both would
 * show every entry twice in journalctl. If the native send fails, the line goes to stderr
 * instead so nothing is lost.
 *
 * Single-threaded by design (one libuv loop per process); the state is a plain global.
 */
#include "log_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct log_state log_g = {
	.proc = "", .cluster_id = "", .fmt = LOG_FMT_JSON, .level = LOG_LVL_INFO, .journal = false
};

static const char *const log_level_names[] = { "trace", "debug", "info", "warn", "error", "fatal" };

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_LVL_FATAL)
		return "info";
	return log_level_names[level];
}

void
log_format_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	char sec[24];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", sec, (long)ts->tv_nsec);
}

void
log_init(const char *proc, enum log_format fmt, enum log_level level)
{
	snprintf(log_g.proc, sizeof(log_g.proc), "%s", proc ? proc : "");
	log_g.fmt = fmt;
	log_g.level = level;
	/* Auto-detection; log_set_journal() afterwards overrides it. */
	log_g.journal = log_journal_stream_matches();
}

void
log_set_cluster_id(const char *cluster_id)
{
	snprintf(log_g.cluster_id, sizeof(log_g.cluster_id), "%s", cluster_id ? cluster_id : "");
}

void
log_set_journal(bool on)
{
	log_g.journal = on;
}

bool
log_journal_enabled(void)
{
	return log_g.journal;
}

int
log_format_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcasecmp(s, "json") == 0)
		return LOG_FMT_JSON;
	if (strcasecmp(s, "text") == 0)
		return LOG_FMT_TEXT;
	return -1;
}

int
log_level_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = LOG_LVL_TRACE; i <= LOG_LVL_FATAL; i++)
		if (strcasecmp(s, log_level_names[i]) == 0)
			return i;
	/* logrus also accepts "warning". */
	if (strcasecmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

bool
log_enabled(enum log_level level)
{
	return level >= log_g.level;
}

/* One write() per line. A short write (pipe full of a huge line, signal) is finished with
 * further writes rather than dropped; atomicity only holds below PIPE_BUF anyway. */
static void
log_write_stderr(const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

static void
log_to_stderr(const struct log_entry *e)
{
	static const char oom[] = "{\"level\":\"error\",\"msg\":\"log: out of memory\"}\n";
	char *line = log_g.fmt == LOG_FMT_TEXT ? log_text_line(e) : log_json_line(e);

	if (line == NULL) {
		log_write_stderr(oom, sizeof(oom) - 1);
		return;
	}
	log_write_stderr(line, strlen(line));
	free(line);
}

static void
log_dispatch(const struct log_entry *e)
{
	int saved = errno;

	if (!log_g.journal || log_journal_send(e) < 0)
		log_to_stderr(e);
	errno = saved;
}

void
log_emit_err(enum log_level level, const char *msg, const char *error,
	     const struct log_field *fields)
{
	struct log_entry e = {
		.level = level, .msg = msg ? msg : "", .error = error, .fields = fields
	};

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &e.ts);
	log_dispatch(&e);
}

void
log_emit(enum log_level level, const char *msg, const struct log_field *fields)
{
	log_emit_err(level, msg, NULL, fields);
}

void
log_msgf(enum log_level level, const char *fmt, ...)
{
	char *buf = NULL;
	va_list ap;
	int r;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	r = vasprintf(&buf, fmt, ap);
	va_end(ap);
	/* Out of memory: the format string is better than nothing. */
	log_emit_err(level, r < 0 ? fmt : buf, NULL, NULL);
	if (r >= 0)
		free(buf);
}
