/* util.c - small helpers shared by the three processes. */
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mbedtls/platform_util.h>

void
adc_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		mbedtls_platform_zeroize(p, n);
}

void
adc_free_secret_str(char *s)
{
	if (s == NULL)
		return;
	adc_wipe(s, strlen(s));
	free(s);
}

int
adc_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = 0;

	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

uint64_t
adc_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

uint64_t
adc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t
adc_mul_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (!__builtin_mul_overflow(a, b, &r))
		return r;
	return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}
