/* uuid_index.h - an index from container uuid to a position in one of the loop's arrays,
 * rebuilt whole, never updated: for the lists that every container of a view is looked up in
 * (the memory of earlier decisions, each pass; the last pass's containers, for the management
 * API's status of each). Open addressing with linear probing; keys are NUL-padded
 * QUEUE_UUID_MAX buffers, hashed and compared whole, as struct queue_ent's uuid is. */
#ifndef ADC_UUID_INDEX_H
#define ADC_UUID_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct uuid_index {
	uint32_t *slot; /* 1 + position, 0 free; n_slot a power of two, or 0 */
	size_t n_slot;
};

/* The key of position i: a NUL-padded QUEUE_UUID_MAX buffer. */
typedef const char *(*uuid_index_key_fn)(const void *ctx, size_t i);

/* Index positions 0..n-1. 0 or -ENOMEM (then the index is empty). */
int uuid_index_build(struct uuid_index *x, const void *ctx, uuid_index_key_fn key, size_t n);
/* The position whose key is uuid (a NUL-padded buffer), or -1. */
int64_t uuid_index_find(const struct uuid_index *x, const void *ctx, uuid_index_key_fn key,
			const char *uuid);
void uuid_index_free(struct uuid_index *x);

#endif
