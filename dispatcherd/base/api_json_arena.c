/* api_json_arena.c - see api_json_arena.h. */
#include "api_json_arena.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

/* No-ops unless built with AddressSanitizer (gcc and clang both ship the header). */
#include <sanitizer/asan_interface.h>

#if defined(__SANITIZE_ADDRESS__)
#define AJA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AJA_ASAN 1
#endif
#endif

#ifdef AJA_ASAN
/* A poisoned size word before and a poisoned gap after every allocation, so that ASan still
 * sees overflows between nodes and use after cJSON_Delete of a part of a live tree. */
#define AJA_HDR		8u
#define AJA_GAP		16u
#define AJA_TEXT_FACTOR 14u
#else
#define AJA_HDR		0u
#define AJA_GAP		0u
/* cJSON needs ~4.4 bytes per byte of a list page; a denser text spills into more chunks. */
#define AJA_TEXT_FACTOR 6u
#endif

#define AJA_ALIGN      8u  /* cJSON allocates cJSON structs and strings only */
#define AJA_MAX_CHUNKS 32u /* lookups per free stay a handful of compares */
#define AJA_MIN_CHUNK  (64u * 1024u)
#define AJA_MAX_CHUNK  (16u * 1024u * 1024u)

struct aja_chunk {
	char *next, *end; /* bump pointer; one past the last usable byte */
	size_t live;	  /* allocations not yet freed */
	bool open;	  /* still allocated from */
};

#define AJA_DATA_OFF ((sizeof(struct aja_chunk) + 15u) & ~(size_t)15u)

static _Thread_local struct aja_chunk *aja_chunks[AJA_MAX_CHUNKS];
static _Thread_local size_t aja_n;
static _Thread_local struct aja_chunk *aja_cur; /* NULL: cJSON gets malloc */
static _Thread_local size_t aja_chunk_size;
static pthread_once_t aja_once = PTHREAD_ONCE_INIT;

static char *
aja_data(struct aja_chunk *c)
{
	return (char *)c + AJA_DATA_OFF;
}

static struct aja_chunk *
aja_chunk_new(size_t size)
{
	struct aja_chunk *c;

	if (aja_n == AJA_MAX_CHUNKS || (c = malloc(AJA_DATA_OFF + size)) == NULL)
		return NULL;
	c->next = aja_data(c);
	c->end = c->next + size;
	c->live = 0;
	c->open = true;
	ASAN_POISON_MEMORY_REGION(c->next, size);
	aja_chunks[aja_n++] = c;
	return c;
}

static void
aja_chunk_release(size_t i)
{
	struct aja_chunk *c = aja_chunks[i];

	aja_chunks[i] = aja_chunks[--aja_n];
	ASAN_UNPOISON_MEMORY_REGION(aja_data(c), (size_t)(c->end - aja_data(c)));
	free(c);
}

/* Stop allocating from c; it goes back to malloc at once if nothing in it is alive. */
static void
aja_chunk_seal(struct aja_chunk *c)
{
	c->open = false;
	if (c->live != 0)
		return;
	for (size_t i = 0; i < aja_n; i++)
		if (aja_chunks[i] == c) {
			aja_chunk_release(i);
			return;
		}
}

static void *
aja_malloc(size_t size)
{
	size_t need = AJA_HDR + ((size + AJA_ALIGN - 1) & ~(size_t)(AJA_ALIGN - 1)) + AJA_GAP;
	struct aja_chunk *c = aja_cur;
	char *p;

	if (c == NULL || size > AJA_MAX_CHUNK)
		return malloc(size);
	if ((size_t)(c->end - c->next) < need) {
		struct aja_chunk *n = aja_chunk_new(need > aja_chunk_size ? need : aja_chunk_size);

		if (n == NULL)
			return malloc(size); /* the free hook tells the two apart */
		aja_chunk_seal(c);
		aja_cur = c = n;
	}
	p = c->next + AJA_HDR;
	c->next += need;
	c->live++;
#ifdef AJA_ASAN
	ASAN_UNPOISON_MEMORY_REGION(p - AJA_HDR, AJA_HDR);
	*(size_t *)(void *)(p - AJA_HDR) = size;
	ASAN_POISON_MEMORY_REGION(p - AJA_HDR, AJA_HDR);
#endif
	ASAN_UNPOISON_MEMORY_REGION(p, size);
	return p;
}

static void
aja_free(void *ptr)
{
	char *p = ptr;

	if (p == NULL)
		return;
	for (size_t i = aja_n; i-- > 0;) {
		struct aja_chunk *c = aja_chunks[i];

		if (p < aja_data(c) || p >= c->end)
			continue;
#ifdef AJA_ASAN
		ASAN_UNPOISON_MEMORY_REGION(p - AJA_HDR, AJA_HDR);
		size_t size = *(size_t *)(void *)(p - AJA_HDR);
		ASAN_POISON_MEMORY_REGION(p - AJA_HDR, AJA_HDR + size);
#endif
		if (--c->live == 0 && !c->open)
			aja_chunk_release(i);
		return;
	}
	free(p);
}

static void
aja_install(void)
{
	cJSON_Hooks hooks = { .malloc_fn = aja_malloc, .free_fn = aja_free };

	cJSON_InitHooks(&hooks);
}

int
api_json_arena_open(size_t text_len)
{
	size_t size = text_len < AJA_MAX_CHUNK / AJA_TEXT_FACTOR ? text_len * AJA_TEXT_FACTOR
								 : AJA_MAX_CHUNK;

	pthread_once(&aja_once, aja_install);
	if (aja_cur != NULL)
		api_json_arena_close();
	if (size < AJA_MIN_CHUNK)
		size = AJA_MIN_CHUNK;
	if (aja_n == AJA_MAX_CHUNKS)
		return -EMFILE;
	if ((aja_cur = aja_chunk_new(size)) == NULL)
		return -ENOMEM;
	aja_chunk_size = size;
	return 0;
}

void
api_json_arena_close(void)
{
	if (aja_cur == NULL)
		return;
	aja_chunk_seal(aja_cur);
	aja_cur = NULL;
}

size_t
api_json_arena_chunks(void)
{
	return aja_n;
}
