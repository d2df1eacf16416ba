/* heap_scrub.c - see heap_scrub.h. */
#include "heap_scrub.h"

#include <malloc.h>
#include <stdlib.h>

#include "util.h"

/* glibc's defaults: 64 tcache bins of 16-byte steps (up to 1032 bytes), 7 blocks each. We
 * drain more than that per size in case the tunables were raised. */
#define SCRUB_MAX_SIZE 1032
#define SCRUB_PER_SIZE 32

void
heap_scrub_begin(void)
{
#ifndef ADC_SANITIZE
	mallopt(M_PERTURB, 0xa5);
#endif
}

void
heap_scrub_tcache(void)
{
#ifndef ADC_SANITIZE
	void *held[SCRUB_PER_SIZE];

	for (size_t size = 8; size <= SCRUB_MAX_SIZE; size += 16) {
		int n = 0;
		while (n < SCRUB_PER_SIZE && (held[n] = malloc(size)) != NULL) {
			adc_wipe(held[n], malloc_usable_size(held[n]));
			n++;
		}
		while (n > 0)
			free(held[--n]);
	}
#endif
}

void
heap_scrub_end(void)
{
#ifndef ADC_SANITIZE
	mallopt(M_PERTURB, 0);
#endif
}
