/*
 * log.h - one log API for dispatcherd, cloudd and sshd-pool.
 *
 * Every entry goes to stderr as a JSON line (SystemLogs.Format "json", the reference's field
 * names: time, level, msg, PID, ClusterID, then the entry's fields) or as text
 * ("key=value ..."), and, when running under systemd (JOURNAL_STREAM names our stderr, or
 * log_init was told so), to journald with native fields: MESSAGE, PRIORITY,
 * SYSLOG_IDENTIFIER, ADC_PROCESS, and CONTAINER_UUID / INSTANCE_ID / INSTANCE_TYPE /
 * WORKER_STATE for the fields ContainerUUID / Instance / InstanceType / WorkerState.
 *
 * Callers never pass secrets; the tests grep every log for them.
 */
#ifndef ADC_LOG_H
#define ADC_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_TRACE = 0,
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
	LOG_LVL_FATAL
};
enum log_format { LOG_FMT_JSON = 0, LOG_FMT_TEXT };

enum log_field_type { LF_T_END = 0, LF_T_STR, LF_T_INT, LF_T_DBL, LF_T_BOOL };

struct log_field {
	const char *key;
	enum log_field_type type;
	union {
		const char *s;
		int64_t i;
		double d;
		bool b;
	} v;
};

#define LF_STR(k, x)  ((struct log_field){ .key = (k), .type = LF_T_STR, .v.s = (x) })
#define LF_INT(k, x)  ((struct log_field){ .key = (k), .type = LF_T_INT, .v.i = (int64_t)(x) })
#define LF_DBL(k, x)  ((struct log_field){ .key = (k), .type = LF_T_DBL, .v.d = (double)(x) })
#define LF_BOOL(k, x) ((struct log_field){ .key = (k), .type = LF_T_BOOL, .v.b = (x) })
#define LF_END	      ((struct log_field){ .key = NULL, .type = LF_T_END })

/* Set up logging for this process. proc is the process name (arvados-dispatch-cloud, cloudd,
 * sshd-pool), used as SYSLOG_IDENTIFIER and ADC_PROCESS. Safe to call again (reconfigure). */
void log_init(const char *proc, enum log_format fmt, enum log_level level);
void log_set_cluster_id(const char *cluster_id);
/* Force journald output on or off (default: on iff $JOURNAL_STREAM matches stderr). While it
 * is on, entries go natively to journald and not to stderr (under systemd stderr is itself
 * a journal stream; writing both would duplicate every entry); a failed send falls back to
 * stderr. Call before sandbox_apply(): the seccomp filter admits libsystemd's socket only
 * when journal output is on at that time. */
void log_set_journal(bool on);
bool log_journal_enabled(void);

/* Parse "json"/"text" and "trace".."fatal" (case-insensitive); -1 when unknown. */
int log_format_parse(const char *s);
int log_level_parse(const char *s);
bool log_enabled(enum log_level level);

/* An entry with fields; fields ends with LF_END. */
void log_emit(enum log_level level, const char *msg, const struct log_field *fields);
/* An entry with fields and an attached error text (the "error" field). */
void log_emit_err(enum log_level level, const char *msg, const char *error,
		  const struct log_field *fields);
/* printf-style message, no fields. */
void log_msgf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_kv(LOG_LVL_INFO, "adding container to queue", LF_STR("ContainerUUID", u), LF_INT(...)) */
#define log_kv(lvl, msg, ...) \
	log_emit((lvl), (msg), (const struct log_field[]){ __VA_ARGS__, LF_END })
#define log_kv_err(lvl, msg, err, ...) \
	log_emit_err((lvl), (msg), (err), (const struct log_field[]){ __VA_ARGS__, LF_END })

#define log_info(...)  log_msgf(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msgf(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msgf(LOG_LVL_ERROR, __VA_ARGS__)
#define log_debug(...) log_msgf(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
