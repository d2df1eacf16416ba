/* util.h - small helpers shared by the three processes. */
#ifndef ADC_UTIL_H
#define ADC_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Zero memory that held a secret; never optimised away (mbedtls_platform_zeroize). */
void adc_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string's bytes and free it; NULL is fine. */
void adc_free_secret_str(char *s);
/* Constant-time comparison of two byte strings (length leaks, content does not). */
int adc_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* a * b, saturated to [INT64_MIN, INT64_MAX] instead of overflowing (times from a child or
 * a cloud converted to nanoseconds). */
int64_t adc_mul_sat(int64_t a, int64_t b);
/* Monotonic clock in milliseconds. */
uint64_t adc_now_ms(void);
/* FNV-1a over n bytes, continuing from h (ADC_FNV1A_INIT to start): the hash of the in-memory
 * tables whose keys are not chosen by an attacker (uuids and ids from our own cloud and API
 * server, container records); the one implementation. */
#define ADC_FNV1A_INIT 1469598103934665603ull
uint64_t adc_fnv1a(uint64_t h, const void *p, size_t n);

#endif
