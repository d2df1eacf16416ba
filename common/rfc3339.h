/*
 * rfc3339.h - RFC 3339 timestamps as the Arvados services read and write them: parsed into Unix
 * nanoseconds and a UTC offset, printed as Go's time.RFC3339Nano prints a time.Time (the
 * fraction's trailing zeros trimmed, "Z" for a zero offset). The one implementation of both
 * for the three processes: the API server's created_at, EC2's timestamps, the times the
 * management API and crunch-run's price history show.
 */
#ifndef ADC_RFC3339_H
#define ADC_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_SECOND 1000000000LL
/* Longest text rfc3339_format writes, with its NUL: 2006-01-02T15:04:05.999999999-07:00. */
#define RFC3339_MAX 36

/* "2006-01-02T15:04:05[.fraction](Z|+hh:mm|-hh:mm)"; a 't' or 'z' as Go accepts them; digits
 * of the fraction beyond nanoseconds are ignored; years outside 1678-2261 (an int64_t of
 * nanoseconds) are refused. *ns is the instant (UTC), *off_s the offset
 * the text gave, in seconds east of UTC (may be NULL). 0, or -EINVAL (nothing written). */
int rfc3339_parse(const char *s, int64_t *ns, int32_t *off_s);

/* The instant ns at offset off_s (seconds east of UTC; a whole number of minutes) as Go's
 * RFC3339Nano. buf has RFC3339_MAX bytes or more. */
void rfc3339_format(int64_t ns, int32_t off_s, char *buf, size_t len);

#endif
