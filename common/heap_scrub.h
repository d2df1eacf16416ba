/*
 * heap_scrub.h - make sure freed heap memory holds no secret.
 *
 * dispatcherd reads the config (secrets included) with libfyaml and cJSON, which free their
 * copies with plain free(). heap_scrub_begin() (before the config is read) asks glibc to
 * overwrite every block it frees (M_PERTURB). glibc skips that for blocks it keeps in the
 * per-thread cache (tcache), so heap_scrub_tcache() (after the secrets are wiped) takes every
 * cached block back out, wipes it and frees it again. heap_scrub_end() then stops the
 * overwriting: the secrets are held as fds from then on, and a perturbed heap writes every
 * block malloc hands out and every block it takes back, for the process's whole life. In
 * sanitizer builds the ASan allocator does the same job (free_fill_byte, see
 * dispatcherd/app/main.c) and these are no-ops.
 */
#ifndef ADC_HEAP_SCRUB_H
#define ADC_HEAP_SCRUB_H

void heap_scrub_begin(void);
void heap_scrub_tcache(void);
void heap_scrub_end(void);

#endif
