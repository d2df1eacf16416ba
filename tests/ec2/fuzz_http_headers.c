/*
 * fuzz_http_headers.c - libFuzzer target for the HTTP header values cloudd reads from cloud
 * endpoints: the Retry-After line of every answer (cloudd/curl_body.c, seconds form), and the
 * Azure driver's Retry-After (seconds or an HTTP-date through curl_getdate,
 * azure_retry_after_ms) as az_classify turns it into an earliest retry. Checks: a seconds
 * value is finite and not negative (it becomes a delay), and a throttled call is never retried
 * before now.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azure_int.h"
#include "curl_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int64_t now = 1700000000000LL;
	char *s = malloc(size + 1);
	struct drv_error e;
	double v;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	v = cu_retry_after((const char *)data, size);
	if (v != -1 && (!isfinite(v) || v < 0))
		abort();
	(void)azure_retry_after_ms(s, now);
	for (long status = 429; status <= 503; status += 74) {
		int64_t before = az_now_ms();

		memset(&e, 0, sizeof(e));
		az_classify(&e, status, s, "", "", NULL);
		if (e.cls == DRV_ERR_RATE_LIMIT && e.earliest_retry_ms < before)
			abort();
	}
	free(s);
	return 0;
}
