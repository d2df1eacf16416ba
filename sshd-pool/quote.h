/*
 * quote.h - validation of every value that reaches a worker's shell, and single-quoting.
 *
 * sshd-pool builds each remote command line itself from typed fields (spec/dispatcher.md 5.7-5.11);
 * nothing from the parent or from a worker is pasted into a command unless it matched one of the
 * patterns below AND was single-quoted (weakness 22: the reference interpolated UUIDs read back from
 * workers unquoted into a root shell).
 */
#ifndef ADC_QUOTE_H
#define ADC_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

#define QUOTE_MAX_CMD (256u * 1024u) /* longest command line we build */
#define QUOTE_MAX_ARG (64u * 1024u)  /* longest single CrunchRunArgumentsList entry */

/* 1..64 (Linux signal numbers; the dispatcher only ever sends 15). */
bool quote_valid_signal(int sig);
/* ^[0-9a-f]{32}$ (md5 hex, the runner binary's name suffix). */
bool quote_valid_md5(const char *s);
/* An absolute path: "/" then components of [A-Za-z0-9._+-], none "." or "..", no "//", no trailing
 * "/", at most 1024 bytes. Safe unquoted in a shell word (no "~" at a word start, no "="). */
bool quote_valid_path(const char *s);
/* The runner as the first word of a command: an absolute path (quote_valid_path, where a "~" is also
 * allowed after the first character of a component, as in crunch-run~<md5>) or a bare name
 * ^[A-Za-z0-9_.+-]+$ not starting with "-". */
bool quote_valid_command(const char *s);
/* A POSIX login name: ^[a-z_][a-z0-9_.-]{0,31}$ */
bool quote_valid_user(const char *s);
/* A container runtime engine name: ^[a-z0-9][a-z0-9_-]{0,63}$ */
bool quote_valid_engine(const char *s);
/* A CrunchRunArgumentsList entry: any bytes but NUL (it is quoted), at most QUOTE_MAX_ARG. */
bool quote_valid_arg(const char *s);
/* An IPv4/IPv6 literal (no names: nothing here resolves). */
bool quote_valid_address(const char *s);

/* A growing command line, bounded by QUOTE_MAX_CMD. Errors are sticky: check once with
 * quote_buf_take, which returns NULL (and frees) if any append failed. */
struct quote_buf {
	char *p;
	size_t len, cap;
	int err; /* 0, or -ENOMEM / -E2BIG */
};

void quote_buf_init(struct quote_buf *b);
/* Append text verbatim (only for fixed text of ours and validated words). */
void quote_buf_raw(struct quote_buf *b, const char *s);
/* Append s single-quoted: 'it'\''s' */
void quote_buf_arg(struct quote_buf *b, const char *s);
/* The string (caller frees), or NULL with *err set; the buffer is reset either way. */
char *quote_buf_take(struct quote_buf *b, int *err);
void quote_buf_free(struct quote_buf *b);

/* s single-quoted, as a new string (NULL on ENOMEM or if longer than QUOTE_MAX_CMD). */
char *quote_arg(const char *s);

#endif
