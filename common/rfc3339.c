/* rfc3339.c - RFC 3339 timestamps in and out (rfc3339.h). */
#include "rfc3339.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int
two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "Z", "+hh:mm" or "-hh:mm" ending the text: seconds east of UTC, or -EINVAL. */
static int
parse_offset(const char *p, int32_t *off)
{
	int h, m;

	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':' ||
	    (h = two_digits(p + 1)) < 0 || (m = two_digits(p + 4)) < 0 || h > 23 || m > 59)
		return -EINVAL;
	*off = (p[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return 0;
}

int
rfc3339_parse(const char *s, int64_t *ns, int32_t *off_s)
{
	struct tm tm;
	const char *p;
	int64_t frac = 0, scale = RFC3339_SECOND / 10, sec;
	int32_t off;

	if (s == NULL || strlen(s) < 20 || (s[10] != 'T' && s[10] != 't'))
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%d", &tm)) != s + 10 ||
	    (p = strptime(s + 11, "%H:%M:%S", &tm)) != s + 19)
		return -EINVAL;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (parse_offset(p, &off) != 0)
		return -EINVAL;
	sec = (int64_t)timegm(&tm) - off;
	/* nanoseconds in an int64_t: years 1678 to 2261 (Go's time.Time goes further; no
	 * container was created outside these) */
	if (sec <= INT64_MIN / RFC3339_SECOND || sec >= INT64_MAX / RFC3339_SECOND - 1)
		return -EINVAL;
	*ns = sec * RFC3339_SECOND + frac;
	if (off_s != NULL)
		*off_s = off;
	return 0;
}

void
rfc3339_format(int64_t ns, int32_t off_s, char *buf, size_t len)
{
	int64_t local = ns + (int64_t)off_s * RFC3339_SECOND;
	int64_t sec = local / RFC3339_SECOND, frac = local % RFC3339_SECOND;
	time_t t;
	struct tm tm;
	char f[16] = "", zone[8] = "Z";
	int32_t a = off_s < 0 ? -off_s : off_s;

	if (frac < 0) { /* before 1970: the fraction counts up from the second below */
		frac += RFC3339_SECOND;
		sec--;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	if (frac != 0) {
		size_t n;

		snprintf(f, sizeof(f), ".%09lld", (long long)frac);
		for (n = strlen(f); f[n - 1] == '0'; n--)
			f[n - 1] = '\0';
	}
	if (off_s != 0)
		snprintf(zone, sizeof(zone), "%c%02d:%02d", off_s < 0 ? '-' : '+',
			 (int)(a / 3600 % 100), (int)(a / 60 % 60));
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f, zone);
}
