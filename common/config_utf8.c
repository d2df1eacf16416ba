/*
 * config_utf8.c - reject a config that is not valid UTF-8 before libfyaml sees it.
 *
 * YAML is Unicode text, and the reference's parser refuses invalid UTF-8 too. libfyaml 0.7.12
 * can loop forever on some invalid sequences (e.g. "%\xc6", found by fuzz_config), so this
 * check also keeps a malformed file from hanging the dispatcher at startup.
 */
#include <stdint.h>

#include "config_internal.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int
cfg_utf8_check(const char *buf, size_t len, int *line, int *column)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	*line = 1;
	*column = 1;
	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0)
			return -1;
		if (s[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
		i += n;
	}
	return 0;
}
