/* uuid_index.c - see uuid_index.h. */
#include "uuid_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* Of a NUL-padded uuid buffer: a few multiplies instead of a walk over the characters. */
static uint64_t
uuid_index_hash(const char *u)
{
	uint64_t w[QUEUE_UUID_MAX / 8], h = 0;

	memcpy(w, u, sizeof(w));
	for (size_t i = 0; i < QUEUE_UUID_MAX / 8; i++)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15u;
	return h ^ (h >> 31);
}

int
uuid_index_build(struct uuid_index *x, const void *ctx, uuid_index_key_fn key, size_t n)
{
	size_t want = 16;

	while (want < 2 * n)
		want *= 2;
	if (want != x->n_slot) {
		uint32_t *s = realloc(x->slot, want * sizeof(*s));

		if (s == NULL) {
			uuid_index_free(x);
			return -ENOMEM;
		}
		x->slot = s;
		x->n_slot = want;
	}
	memset(x->slot, 0, x->n_slot * sizeof(*x->slot));
	for (size_t i = 0; i < n; i++) {
		size_t k = uuid_index_hash(key(ctx, i)) & (x->n_slot - 1);

		while (x->slot[k] != 0)
			k = (k + 1) & (x->n_slot - 1);
		x->slot[k] = (uint32_t)(i + 1);
	}
	return 0;
}

int64_t
uuid_index_find(const struct uuid_index *x, const void *ctx, uuid_index_key_fn key,
		const char *uuid)
{
	if (x->n_slot == 0)
		return -1;
	for (size_t k = uuid_index_hash(uuid) & (x->n_slot - 1); x->slot[k] != 0;
	     k = (k + 1) & (x->n_slot - 1))
		if (memcmp(key(ctx, x->slot[k] - 1), uuid, QUEUE_UUID_MAX) == 0)
			return (int64_t)x->slot[k] - 1;
	return -1;
}

void
uuid_index_free(struct uuid_index *x)
{
	free(x->slot);
	x->slot = NULL;
	x->n_slot = 0;
}
