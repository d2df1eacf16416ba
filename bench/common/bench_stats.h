/* bench_stats.h - the benches' one median: each prints the median of several runs (never a
 * mean: these machines are shared and noisy, and one slow run must not move the figure). */
#ifndef ADC_BENCH_STATS_H
#define ADC_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts v (the caller may then read its minimum and maximum) and returns the median: the
 * middle value, or the mean of the two middle values when n is even. n > 0. */
static inline double
bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline double
bench_median_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

#endif
