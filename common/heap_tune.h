/*
 * heap_tune.h - how the three processes ask glibc to treat large blocks.
 *
 * Their large blocks are arrays rebuilt or regrown as the queue and the pool change size
 * (the scheduler's order keys, a DescribeInstances page and its XML tree) and buffers freed
 * soon after use. glibc raises its mmap threshold to the size of the last mapped block freed,
 * after which such blocks come from the heap and their pages stay resident once freed (and
 * the heap fragments around them). A fixed threshold keeps every block of 128 KiB or more
 * mapped, so it goes back to the system when freed.
 */
#ifndef ADC_HEAP_TUNE_H
#define ADC_HEAP_TUNE_H

void heap_map_large_blocks(void);

#endif
