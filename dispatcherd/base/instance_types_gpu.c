/*
 * instance_types_gpu.c - GPU version comparison and the driver/hardware rules (spec 3.3).
 *
 * The reference compares versions with strconv.ParseFloat, so "9.10" is 9.1 (< 9.2) and
 * "12.0.12" does not parse. We accept exactly ParseFloat's decimal syntax (sign, digits with an
 * optional point, optional exponent, and its "inf"/"infinity"/"nan" words) and reject its
 * hexadecimal form, which no version string uses. strtod does the conversion once the syntax
 * is known to be decimal; the daemon never calls setlocale, so '.' is the decimal point.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "instance_types.h"
#include "instance_types_gpu.h"

static bool
itypes_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *
itypes_skip_digits(const char *p, bool *any)
{
	for (; itypes_is_digit(*p); p++)
		*any = true;
	return p;
}

/* ParseFloat's special words: [+-]inf, [+-]infinity, nan (any letter case, nothing after). */
static bool
itypes_version_special(const char *s, double *v)
{
	const char *p = s;
	double sign = 1;

	if (strcasecmp(s, "nan") == 0) {
		*v = NAN;
		return true;
	}
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
		*v = sign * INFINITY;
		return true;
	}
	return false;
}

int
itypes_version_parse(const char *s, double *v)
{
	const char *p = s;
	char *end;
	bool digits = false, exp_digits = false;
	double x;

	if (s == NULL)
		return -EINVAL;
	if (itypes_version_special(s, v))
		return 0;
	if (*p == '+' || *p == '-')
		p++;
	p = itypes_skip_digits(p, &digits);
	if (*p == '.')
		p = itypes_skip_digits(p + 1, &digits);
	if (!digits)
		return -EINVAL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		p = itypes_skip_digits(p, &exp_digits);
		if (!exp_digits)
			return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	/* ParseFloat fails on overflow (ErrRange); underflow to 0 is not an error there. */
	if (end != p || (errno == ERANGE && isinf(x)))
		return -EINVAL;
	*v = x;
	return 0;
}

int
itypes_version_less(const char *a, const char *b, bool *less)
{
	double x, y;

	if (itypes_version_parse(a, &x) != 0 || itypes_version_parse(b, &y) != 0)
		return -EINVAL;
	*less = x < y;
	return 0;
}

int
itypes_gpu_stack(const char *s, enum cfg_gpu_stack *out)
{
	if (s == NULL || *s == '\0')
		*out = CFG_GPU_NONE;
	else if (strcmp(s, "cuda") == 0)
		*out = CFG_GPU_CUDA;
	else if (strcmp(s, "rocm") == 0)
		*out = CFG_GPU_ROCM;
	else
		return -EINVAL;
	return 0;
}

void
itypes_gpu_req_init(struct itypes_gpu_req *q, const struct ctres_gpu *g, enum cfg_gpu_stack stack)
{
	memset(q, 0, sizeof(*q));
	q->stack = stack;
	q->active = g->device_count > 0;
	q->drv_ok = itypes_version_parse(g->driver_version, &q->drv) == 0;
	q->targets = g->hardware_target;
	q->n_targets = g->n_hardware_target;
	if (stack == CFG_GPU_NONE) {
		q->hw_mode = ITYPES_HW_NONE;
	} else if (stack == CFG_GPU_ROCM || g->n_hardware_target > 1) {
		q->hw_mode = ITYPES_HW_ONE_OF;
	} else if (g->n_hardware_target == 1) {
		q->hw_mode = ITYPES_HW_AT_LEAST;
		q->hw_ok = itypes_version_parse(g->hardware_target[0], &q->hw) == 0;
	} else {
		q->hw_mode = ITYPES_HW_FAIL;
	}
}

void
itypes_gpu_type_init(struct itypes_gpu_type *e, const struct cfg_gpu *g)
{
	e->drv_ok = itypes_version_parse(g->driver_version, &e->drv) == 0;
	e->hw_ok = itypes_version_parse(g->hardware_target, &e->hw) == 0;
}

static bool
itypes_gpu_one_of(const struct itypes_gpu_req *q, const char *target)
{
	if (target == NULL)
		target = "";
	for (size_t i = 0; i < q->n_targets; i++)
		if (strcmp(q->targets[i], target) == 0)
			return true;
	return false;
}

bool
itypes_gpu_ok(const struct itypes_gpu_req *q, const struct itypes_gpu_type *e,
	      const struct cfg_gpu *g)
{
	if (!q->active)
		return true;
	/* Driver: a parse failure on either side fails the check, as does type < request. */
	if (!q->drv_ok || !e->drv_ok || e->drv < q->drv)
		return false;
	switch (q->hw_mode) {
	case ITYPES_HW_NONE:
		return true;
	case ITYPES_HW_ONE_OF:
		return itypes_gpu_one_of(q, g->hardware_target);
	case ITYPES_HW_AT_LEAST:
		return q->hw_ok && e->hw_ok && !(e->hw < q->hw);
	case ITYPES_HW_FAIL:
	default:
		return false;
	}
}

/* Length of the valid UTF-8 sequence at s (2-4), or 0 when invalid. */
static size_t
itypes_utf8_len(const unsigned char *s)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	uint32_t cp;

	if (len == 0 || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	cp = len == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f)
	     : len == 3
		     ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f)
		     : (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
			       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	/* Overlong forms, surrogates and beyond U+10FFFF are invalid, as for Go. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Go's strconv.Quote: \" \\ and the C escapes, other control bytes and invalid UTF-8 as \xNN,
 * valid UTF-8 kept. (Go also escapes non-printable non-ASCII runes as \u; not done here.)
 */
void
itypes_gpu_quote(const char *s, char *buf, size_t n)
{
	static const char esc_from[] = "\a\b\f\n\r\t\v\\\"";
	static const char esc_to[] = "abfnrtv\\\"";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	const char *piece, *e;
	size_t at = 0, len, adv;
	char tmp[8];

	if (n < 3) {
		if (n > 0)
			buf[0] = '\0';
		return;
	}
	buf[at++] = '"';
	for (; *p != '\0'; p += adv) {
		piece = tmp;
		if (*p < 0x80 && (e = strchr(esc_from, *p)) != NULL) {
			tmp[0] = '\\';
			tmp[1] = esc_to[e - esc_from];
			len = 2, adv = 1;
		} else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && itypes_utf8_len(p) == 0)) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			len = 4, adv = 1;
		} else {
			piece = (const char *)p;
			len = adv = *p < 0x80 ? 1 : itypes_utf8_len(p);
		}
		/* Stop at the last whole character that leaves room for the closing quote. */
		if (at + len + 2 > n)
			break;
		memcpy(buf + at, piece, len);
		at += len;
	}
	buf[at++] = '"';
	buf[at] = '\0';
}
