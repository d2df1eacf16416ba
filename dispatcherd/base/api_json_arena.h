/*
 * api_json_arena.h - bump allocation for the cJSON trees api_json_parse() builds from large
 * response bodies (a 1,000-container list page is ~60,000 small allocations).
 *
 * From malloc, those nodes land in whatever holes a long-running process's heap has, so
 * building, walking and freeing a tree misses the cache on almost every node and glibc's
 * consolidation of the freed chunks costs more than the parse: at 30,000-100,000 mirrored
 * containers an unchanged list page cost 25-35 us per container, growing with the heap. From
 * an arena the tree is contiguous and freeing it is a counter.
 *
 * It works through cJSON's global allocation hooks, installed on first use (so a process
 * that installs cJSON hooks of its own, as cloudd does, must not use api_json). While a parse
 * is open on this thread, cJSON's allocations come from the arena; every cJSON free looks the
 * pointer up among this thread's arena chunks (a handful) and otherwise calls free(). A tree,
 * or a detached part of one, may therefore be kept and cJSON_Delete()d at any time; a chunk
 * goes back to malloc when the last allocation in it is freed. Arena memory must be freed
 * with cJSON_Delete/cJSON_free on the thread that parsed it, never with free().
 */
#ifndef ADC_API_JSON_ARENA_H
#define ADC_API_JSON_ARENA_H

#include <stddef.h>

/* Bodies shorter than this are parsed with malloc: the arena would not pay for itself. */
#define API_JSON_ARENA_MIN_TEXT 16384u

/* Start allocating cJSON's memory from a new arena sized for text_len bytes of JSON.
 * 0, or -ENOMEM / -EMFILE (too many arenas alive on this thread): cJSON then uses malloc. */
int api_json_arena_open(size_t text_len);

/* Stop allocating from the arena opened last; what was allocated lives on until freed. */
void api_json_arena_close(void);

/* Arena chunks alive on this thread (tests: 0 once every tree is deleted). */
size_t api_json_arena_chunks(void);

#endif
