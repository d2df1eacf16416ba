/*
 * duration.c - Go's time.ParseDuration grammar, as the Arvados config uses it.
 *
 * "300ms", "1h30m", "1.5h", "-2s", "+1m", "0". Units: ns us µs μs ms s m h. Arithmetic is
 * done on uint64 with the same overflow points as Go (magnitude up to 1<<63, positive values
 * up to INT64_MAX), so a value Go rejects is rejected here too.
 */
#include <errno.h>
#include <string.h>

#include "config.h"

#define DUR_LIMIT (1ULL << 63)

struct dur_unit {
	const char *name;
	uint64_t ns;
};

static const struct dur_unit dur_units[] = {
	{ "ns", 1ULL },
	{ "us", 1000ULL },
	{ "\xc2\xb5s", 1000ULL }, /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000ULL }, /* U+03BC Greek small mu */
	{ "ms", 1000000ULL },
	{ "s", 1000000000ULL },
	{ "m", 60ULL * 1000000000ULL },
	{ "h", 3600ULL * 1000000000ULL },
};

static int
dur_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Leading integer; -ERANGE beyond 1<<63 as Go's leadingInt. */
static int
dur_leading_int(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t x = 0;

	for (; dur_is_digit(*s); s++) {
		if (x > DUR_LIMIT / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
		if (x > DUR_LIMIT)
			return -ERANGE;
	}
	*v = x;
	*sp = s;
	return 0;
}

/* Fraction digits; digits past what fits are consumed and ignored (Go's leadingFraction). */
static void
dur_leading_fraction(const char **sp, uint64_t *f, double *scale)
{
	const char *s = *sp;
	uint64_t x = 0;
	double sc = 1;
	int overflow = 0;

	for (; dur_is_digit(*s); s++) {
		if (overflow)
			continue;
		if (x > (DUR_LIMIT - 1) / 10) {
			overflow = 1;
			continue;
		}
		uint64_t y = x * 10 + (uint64_t)(*s - '0');
		if (y > DUR_LIMIT) {
			overflow = 1;
			continue;
		}
		x = y;
		sc *= 10;
	}
	*f = x;
	*scale = sc;
	*sp = s;
}

static const struct dur_unit *
dur_unit_lookup(const char *u, size_t n)
{
	for (size_t i = 0; i < sizeof(dur_units) / sizeof(dur_units[0]); i++)
		if (strlen(dur_units[i].name) == n && memcmp(dur_units[i].name, u, n) == 0)
			return &dur_units[i];
	return NULL;
}

/* One "<number><unit>" element, added to *total. */
static int
dur_element(const char **sp, uint64_t *total)
{
	const char *s = *sp, *start;
	uint64_t v = 0, f = 0;
	double scale = 1;
	int pre, post = 0, rc;

	if (!(*s == '.' || dur_is_digit(*s)))
		return -EINVAL;
	start = s;
	if ((rc = dur_leading_int(&s, &v)) < 0)
		return rc;
	pre = s != start;
	if (*s == '.') {
		s++;
		start = s;
		dur_leading_fraction(&s, &f, &scale);
		post = s != start;
	}
	if (!pre && !post)
		return -EINVAL;
	start = s;
	while (*s && *s != '.' && !dur_is_digit(*s))
		s++;
	const struct dur_unit *u = dur_unit_lookup(start, (size_t)(s - start));
	if (!u)
		return -EINVAL; /* missing or unknown unit */
	if (v > DUR_LIMIT / u->ns)
		return -ERANGE;
	v *= u->ns;
	if (f > 0) {
		v += (uint64_t)((double)f * ((double)u->ns / scale));
		if (v > DUR_LIMIT)
			return -ERANGE;
	}
	*total += v;
	if (*total > DUR_LIMIT)
		return -ERANGE;
	*sp = s;
	return 0;
}

int
cfg_parse_duration(const char *s, cfg_duration_ns *out)
{
	uint64_t d = 0;
	int neg = 0, rc;

	if (!s)
		return -EINVAL;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s)
		if ((rc = dur_element(&s, &d)) < 0)
			return rc;
	if (neg) {
		*out = d == DUR_LIMIT ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = (int64_t)d;
	return 0;
}
