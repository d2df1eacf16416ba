/* quote.c - patterns for every value that reaches a remote shell, and POSIX single-quoting. */
#include "quote.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool
quote_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
quote_alnum(char c)
{
	return quote_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool
quote_valid_signal(int sig)
{
	return sig >= 1 && sig <= 64;
}

bool
quote_valid_md5(const char *s)
{
	if (s == NULL || strlen(s) != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
quote_path_char(char c)
{
	return quote_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

/* Absolute path check; tilde allows "~" inside a component (never first: tilde expansion). */
static bool
quote_path(const char *s, bool tilde)
{
	size_t n;

	if (s == NULL || s[0] != '/' || (n = strlen(s)) > 1024 || n < 2)
		return false;
	for (const char *c = s + 1; *c != '\0';) {
		const char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t i = 0; i < len; i++)
			if (!quote_path_char(c[i]) && !(tilde && i > 0 && c[i] == '~'))
				return false;
		c += len;
		if (*c == '/' && *++c == '\0')
			return false; /* trailing slash */
	}
	return true;
}

bool
quote_valid_path(const char *s)
{
	return quote_path(s, false);
}

bool
quote_valid_command(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return false;
	if (s[0] == '/')
		return quote_path(s, true);
	if (s[0] == '-' || strlen(s) > 255)
		return false;
	for (const char *c = s; *c; c++)
		if (!quote_path_char(*c))
			return false;
	return true;
}

bool
quote_valid_user(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 32 ||
	    !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!quote_lower_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

bool
quote_valid_engine(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 64 || !quote_lower_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!quote_lower_alnum(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

bool
quote_valid_arg(const char *s)
{
	return s != NULL && strlen(s) <= QUOTE_MAX_ARG;
}

bool
quote_valid_address(const char *s)
{
	unsigned char buf[16];

	return s != NULL && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

void
quote_buf_init(struct quote_buf *b)
{
	memset(b, 0, sizeof(*b));
}

static void
quote_buf_put(struct quote_buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > QUOTE_MAX_CMD) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
quote_buf_raw(struct quote_buf *b, const char *s)
{
	quote_buf_put(b, s, strlen(s));
}

void
quote_buf_arg(struct quote_buf *b, const char *s)
{
	quote_buf_put(b, "'", 1);
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			quote_buf_put(b, "'\\''", 4);
		else
			quote_buf_put(b, c, 1);
	}
	quote_buf_put(b, "'", 1);
}

char *
quote_buf_take(struct quote_buf *b, int *err)
{
	char *p = b->p;

	*err = b->err;
	if (b->err == 0 && p == NULL)
		p = strdup("");
	if (b->err != 0) {
		free(p);
		p = NULL;
	} else if (p == NULL) {
		*err = -ENOMEM;
	}
	quote_buf_init(b);
	return p;
}

void
quote_buf_free(struct quote_buf *b)
{
	free(b->p);
	quote_buf_init(b);
}

char *
quote_arg(const char *s)
{
	struct quote_buf b;
	int err;

	quote_buf_init(&b);
	quote_buf_arg(&b, s);
	return quote_buf_take(&b, &err);
}
