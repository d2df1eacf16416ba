/*
 * log_journal.c - one entry sent natively to journald with sd_journal_sendv.
 *
 * Fields: MESSAGE (msg, then ": error" when an error is attached, so plain journalctl shows
 * it), PRIORITY (syslog numbers), SYSLOG_IDENTIFIER=arvados-dispatch-cloud for all three
 * processes (one `journalctl -t arvados-dispatch-cloud` shows the whole dispatcher),
 * ADC_PROCESS=<proc> to tell them apart, ADC_CLUSTERID, ADC_ERROR, and every entry field:
 * the four operators filter on get journal-style names (CONTAINER_UUID, INSTANCE_ID,
 * INSTANCE_TYPE, WORKER_STATE), every other one becomes ADC_<KEY in upper case>.
 *
 * libsystemd opens its datagram socket lazily on the first send; the children's seccomp
 * filter therefore allows socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0) when journal output
 * is on, and its memfd for an entry too large for a datagram (see sandbox_seccomp.c and
 * docs/SANDBOX.md). Where the memfd is refused, the entry goes again with its long fields cut.
 */
#include "log_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#define LOG_JOURNAL_IDENT "arvados-dispatch-cloud"
/* journald ignores field names longer than 64 characters. */
#define LOG_JOURNAL_KEY_MAX 64
/* An entry that could not be sent whole is sent again with every longer field cut to this
 * many bytes (see log_journal_cut). */
#define LOG_JOURNAL_FIELD_CUT (32 * 1024)

bool
log_journal_stream_matches(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int
log_journal_priority(enum log_level level)
{
	static const int prio[] = { 7, 7, 6, 4, 3, 2 };

	return (unsigned)level > LOG_LVL_FATAL ? 6 : prio[level];
}

/* The journal name for an entry field: mapped, or ADC_ + upper case, [A-Z0-9_] only. */
static void
log_journal_key(const char *key, char *out, size_t len)
{
	static const struct {
		const char *from, *to;
	} map[] = {
		{ "ContainerUUID", "CONTAINER_UUID" },
		{ "Instance", "INSTANCE_ID" },
		{ "InstanceType", "INSTANCE_TYPE" },
		{ "WorkerState", "WORKER_STATE" },
	};
	size_t i, o;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(key, map[i].from) == 0) {
			snprintf(out, len, "%s", map[i].to);
			return;
		}
	o = (size_t)snprintf(out, len, "ADC_");
	for (i = 0; key[i] && o + 1 < len && o < LOG_JOURNAL_KEY_MAX; i++, o++)
		out[o] = isalnum((unsigned char)key[i]) ? (char)toupper((unsigned char)key[i])
							: '_';
	out[o] = '\0';
}

static char *
log_journal_field(const struct log_field *f)
{
	char key[LOG_JOURNAL_KEY_MAX + 1], *s = NULL;
	int r = -1;

	log_journal_key(f->key, key, sizeof(key));
	switch (f->type) {
	case LF_T_STR:
		r = asprintf(&s, "%s=%s", key, f->v.s ? f->v.s : "");
		break;
	case LF_T_INT:
		r = asprintf(&s, "%s=%" PRId64, key, f->v.i);
		break;
	case LF_T_DBL:
		r = asprintf(&s, "%s=%.17g", key, f->v.d);
		break;
	case LF_T_BOOL:
		r = asprintf(&s, "%s=%s", key, f->v.b ? "true" : "false");
		break;
	default:
		break;
	}
	return r < 0 ? NULL : s;
}

static size_t
log_journal_nfields(const struct log_field *fields)
{
	size_t n = 0;

	for (const struct log_field *f = fields; f && f->type != LF_T_END; f++)
		n++;
	return n;
}

/* Appends one malloc'd "KEY=value" to strs; 0, or -ENOMEM with strs[*n] left NULL. */
static int __attribute__((format(printf, 3, 4)))
log_journal_add(char **strs, int *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&strs[*n], fmt, ap);
	va_end(ap);
	if (r < 0) {
		strs[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* Fills strs[] (room for 6 + fields) with "KEY=value" strings; returns how many or -ENOMEM. */
static int
log_journal_strings(const struct log_entry *e, char **strs)
{
	int n = 0, r = 0;

	if (e->error != NULL)
		r |= log_journal_add(strs, &n, "MESSAGE=%s: %s", e->msg, e->error);
	else
		r |= log_journal_add(strs, &n, "MESSAGE=%s", e->msg);
	r |= log_journal_add(strs, &n, "PRIORITY=%d", log_journal_priority(e->level));
	r |= log_journal_add(strs, &n, "SYSLOG_IDENTIFIER=%s", LOG_JOURNAL_IDENT);
	r |= log_journal_add(strs, &n, "ADC_PROCESS=%s", log_g.proc[0] ? log_g.proc : "unknown");
	if (log_g.cluster_id[0] != '\0')
		r |= log_journal_add(strs, &n, "ADC_CLUSTERID=%s", log_g.cluster_id);
	if (e->error != NULL)
		r |= log_journal_add(strs, &n, "ADC_ERROR=%s", e->error);
	for (const struct log_field *f = e->fields; r == 0 && f && f->type != LF_T_END; f++) {
		if (f->key == NULL || f->key[0] == '\0')
			continue;
		if ((strs[n] = log_journal_field(f)) == NULL)
			return -ENOMEM;
		n++;
	}
	return r != 0 ? -ENOMEM : n;
}

/* An entry larger than the journal socket's send buffer goes in a memfd (libsystemd), which
 * the parent's seccomp filter refuses, and so does every helper's while the parent's policy,
 * inherited, lies under its own (docs/SANDBOX.md, "Journald and the sandbox"). Rather than
 * lose the entry's fields to the stderr fallback, every field longer than
 * LOG_JOURNAL_FIELD_CUT is cut (at a UTF-8 boundary) and ends with " [... N bytes cut]",
 * written over the cut part of its own string. Returns whether anything was cut. */
static bool
log_journal_cut(char **strs, struct iovec *iov, int n)
{
	bool cut = false;

	for (int i = 0; i < n; i++) {
		size_t len = iov[i].iov_len, at = LOG_JOURNAL_FIELD_CUT;

		if (len <= LOG_JOURNAL_FIELD_CUT + 64)
			continue;
		while (at > 0 && ((unsigned char)strs[i][at] & 0xC0) == 0x80)
			at--;
		iov[i].iov_len = at + (size_t)snprintf(strs[i] + at, len - at + 1,
						       " [... %zu bytes cut]", len - at);
		cut = true;
	}
	return cut;
}

int
log_journal_send(const struct log_entry *e)
{
	size_t max = 6 + log_journal_nfields(e->fields);
	char **strs = calloc(max, sizeof(*strs));
	struct iovec *iov = calloc(max, sizeof(*iov));
	int n, r = -ENOMEM;

	if (strs != NULL && iov != NULL && (n = log_journal_strings(e, strs)) > 0) {
		for (int i = 0; i < n; i++)
			iov[i] = (struct iovec){ .iov_base = strs[i], .iov_len = strlen(strs[i]) };
		r = sd_journal_sendv(iov, n);
		if (r < 0 && log_journal_cut(strs, iov, n))
			r = sd_journal_sendv(iov, n);
	}
	for (size_t i = 0; strs != NULL && i < max; i++)
		free(strs[i]);
	free(strs);
	free(iov);
	return r;
}
