/* heap_tune.c - see heap_tune.h. */
#include "heap_tune.h"

#include <malloc.h>

void
heap_map_large_blocks(void)
{
	/* Setting it also turns off glibc's dynamic adjustment of the threshold. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}
