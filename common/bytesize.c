/*
 * bytesize.c - the Arvados ByteSize syntax: "<number>[ ]*[unit][B]".
 *
 * Units K M G T P E are powers of 1000, Ki Mi Gi Ti Pi Ei powers of 1024; "B" alone is bytes.
 * An integer number is computed exactly (int64 overflow is -ERANGE); a decimal or exponent
 * number is computed in double precision and truncated toward zero, as the reference does.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct bs_unit {
	const char *name;
	int64_t mult;
};

static const struct bs_unit bs_units[] = {
	{ "", 1 },	     { "K", 1000LL },
	{ "Ki", 1LL << 10 }, { "M", 1000LL * 1000 },
	{ "Mi", 1LL << 20 }, { "G", 1000LL * 1000 * 1000 },
	{ "Gi", 1LL << 30 }, { "T", 1000LL * 1000 * 1000 * 1000 },
	{ "Ti", 1LL << 40 }, { "P", 1000LL * 1000 * 1000 * 1000 * 1000 },
	{ "Pi", 1LL << 50 }, { "E", 1000LL * 1000 * 1000 * 1000 * 1000 * 1000 },
	{ "Ei", 1LL << 60 },
};

static int
bs_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the number at s, and whether it is a plain integer; 0 when there is none. */
static size_t
bs_number_len(const char *s, int *is_int)
{
	size_t i = 0, digits = 0;

	*is_int = 1;
	if (s[i] == '+' || s[i] == '-')
		i++;
	for (; bs_digit(s[i]); i++)
		digits++;
	if (s[i] == '.') {
		*is_int = 0;
		for (i++; bs_digit(s[i]); i++)
			digits++;
	}
	if (digits == 0)
		return 0;
	/* An exponent only if digits follow: "10E" is ten exabytes, "1e3" is a thousand. */
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;
		if (s[j] == '+' || s[j] == '-')
			j++;
		if (bs_digit(s[j])) {
			while (bs_digit(s[j]))
				j++;
			*is_int = 0;
			i = j;
		}
	}
	return i;
}

static int
bs_unit_lookup(const char *u, int64_t *mult)
{
	size_t n = strlen(u);

	if (n > 0 && u[n - 1] == 'B')
		n--;
	for (size_t i = 0; i < sizeof(bs_units) / sizeof(bs_units[0]); i++)
		if (strlen(bs_units[i].name) == n && strncmp(bs_units[i].name, u, n) == 0) {
			*mult = bs_units[i].mult;
			return 0;
		}
	return -EINVAL;
}

static int
bs_integer(const char *num, size_t len, int64_t mult, int64_t *out)
{
	int neg = 0;
	int64_t v = 0;
	size_t i = 0;

	if (num[0] == '+' || num[0] == '-') {
		neg = num[0] == '-';
		i++;
	}
	for (; i < len; i++) {
		int d = num[i] - '0';
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, neg ? -d : d, &v))
			return -ERANGE;
	}
	if (__builtin_mul_overflow(v, mult, &v))
		return -ERANGE;
	*out = v;
	return 0;
}

static int
bs_decimal(const char *num, size_t len, int64_t mult, int64_t *out)
{
	char buf[64];
	double d;

	if (len >= sizeof(buf))
		return -ERANGE; /* no sane size has a 64-character mantissa */
	memcpy(buf, num, len);
	buf[len] = '\0';
	d = strtod(buf, NULL) * (double)mult;
	/* 2^63 is exactly representable; anything at or past it does not fit. */
	if (!isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
		return -ERANGE;
	*out = (int64_t)d;
	return 0;
}

int
cfg_parse_bytesize(const char *s, int64_t *out)
{
	int is_int;
	int64_t mult;
	size_t len;
	const char *u;

	if (!s)
		return -EINVAL;
	len = bs_number_len(s, &is_int);
	if (len == 0)
		return -EINVAL;
	for (u = s + len; *u == ' '; u++)
		;
	if (bs_unit_lookup(u, &mult) < 0)
		return -EINVAL;
	return is_int ? bs_integer(s, len, mult, out) : bs_decimal(s, len, mult, out);
}
