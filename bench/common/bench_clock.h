/* bench_clock.h - the two clocks of the benches: monotonic wall time and this
 * process's CPU time (user + system), both in ms. */
#ifndef ADC_BENCH_CLOCK_H
#define ADC_BENCH_CLOCK_H

#include <sys/resource.h>
#include <time.h>

static inline double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

#endif
