/* ec2_query.c - form body assembly and value encodings for the EC2 Query API. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "ec2_query.h"

static void
ec2_query_put(struct ec2_query *q, const char *s, size_t n)
{
	if (q->err)
		return;
	if (q->len + n + 1 > q->cap) {
		size_t cap = q->cap ? q->cap : 512;
		char *nb;

		while (cap < q->len + n + 1)
			cap *= 2;
		nb = realloc(q->buf, cap);
		if (!nb) {
			q->err = -ENOMEM;
			return;
		}
		q->buf = nb;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, s, n);
	q->len += n;
	q->buf[q->len] = 0;
}

static void
ec2_query_enc(struct ec2_query *q, const char *s)
{
	static const char hx[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			ec2_query_put(q, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hx[c >> 4], hx[c & 15] };

			ec2_query_put(q, e, 3);
		}
	}
}

void
ec2_query_init(struct ec2_query *q, const char *action)
{
	memset(q, 0, sizeof(*q));
	ec2_query_add(q, "Action", action);
	ec2_query_add(q, "Version", EC2_API_VERSION);
}

void
ec2_query_add(struct ec2_query *q, const char *key, const char *value)
{
	if (q->len)
		ec2_query_put(q, "&", 1);
	ec2_query_enc(q, key);
	ec2_query_put(q, "=", 1);
	ec2_query_enc(q, value);
}

void
ec2_query_addf(struct ec2_query *q, const char *value, const char *keyfmt, ...)
{
	char key[256];
	va_list ap;
	int n;

	va_start(ap, keyfmt);
	n = vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(key)) {
		q->err = q->err ? q->err : -ENAMETOOLONG;
		return;
	}
	ec2_query_add(q, key, value);
}

int
ec2_query_done(struct ec2_query *q)
{
	int err = q->err;

	if (!err && !q->buf)
		err = -EINVAL;
	if (err)
		ec2_query_free(q);
	return err;
}

void
ec2_query_free(struct ec2_query *q)
{
	free(q->buf);
	q->buf = NULL;
	q->len = q->cap = 0;
}

int
ec2_base64(const void *data, size_t len, char **out)
{
	size_t olen = 0, cap = 4 * ((len + 2) / 3) + 1;
	char *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	if (mbedtls_base64_encode((unsigned char *)b, cap, &olen, data, len) != 0) {
		free(b);
		return -EIO;
	}
	b[olen] = 0;
	*out = b;
	return 0;
}

void
ec2_format_price(double v, char *buf, size_t len)
{
	char tmp[40];
	int exp;
	char *e;

	/* Shortest precision that round-trips, as Go's strconv 'g' with -1 precision. */
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*g", p, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* C writes 1e-05 like Go; Go uses exponent form when exp < -4 || exp >= 21. */
	e = strchr(tmp, 'e');
	if (e) {
		exp = atoi(e + 1);
		if (exp >= -4 && exp < 21) {
			snprintf(buf, len, "%.*f", exp < 0 ? -exp + 17 : 0, v);
			/* reshape through the shortest round-trip of the fixed form */
			for (int p = 0; p <= 20; p++) {
				snprintf(tmp, sizeof(tmp), "%.*f", p, v);
				if (strtod(tmp, NULL) == v)
					break;
			}
		}
	}
	snprintf(buf, len, "%s", tmp);
}
