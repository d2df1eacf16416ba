/*
 * log_internal.h - what the log_*.c files share: the process-wide settings and one entry.
 *
 * log.c owns the state and the dispatch; log_json.c and log_text.c turn an entry into one
 * line (with its trailing newline) for stderr; log_journal.c sends it to journald.
 */
#ifndef ADC_LOG_INTERNAL_H
#define ADC_LOG_INTERNAL_H

#include "log.h"

#include <stddef.h>
#include <time.h>

struct log_state {
	char proc[64];	     /* ADC_PROCESS=; "" before log_init */
	char cluster_id[64]; /* ClusterID; "" = not set, field omitted */
	enum log_format fmt;
	enum log_level level;
	bool journal; /* send natively to journald (and not to stderr) */
};

struct log_entry {
	enum log_level level;
	const char *msg;
	const char *error;		/* NULL: no "error" field */
	const struct log_field *fields; /* ends with LF_END; may be NULL */
	struct timespec ts;		/* CLOCK_REALTIME at emission */
};

extern struct log_state log_g;

/* "trace".."fatal". */
const char *log_level_name(enum log_level level);
/* RFC 3339 UTC with exactly 9 fractional digits; buf needs 31 bytes. */
void log_format_time(const struct timespec *ts, char *buf, size_t len);

/* One malloc'd line ending in '\n' (caller frees), or NULL when out of memory. */
char *log_json_line(const struct log_entry *e);
char *log_text_line(const struct log_entry *e);

/* True when $JOURNAL_STREAM names the file behind fd 2 (systemd connected our stderr). */
bool log_journal_stream_matches(void);
/* Send e natively to journald; 0 or negative errno from sd_journal_sendv. */
int log_journal_send(const struct log_entry *e);

#endif
