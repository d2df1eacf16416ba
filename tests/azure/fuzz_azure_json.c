/* fuzz_azure_json.c - libFuzzer target for the decoders of untrusted AAD/ARM answers
 * (cloudd/azure_json.c) and the environment file (azure_params.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azure_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), code[64], msg[256], st[32], err[200], *next = NULL;
	struct azure_token t;
	struct azure_env e;
	cJSON *items = NULL;
	const cJSON *it;
	int64_t x;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (azure_token_parse(s, size, 1700000000, &t, err, sizeof(err)) == 0)
		azure_token_free(&t);
	azure_error_parse(s, size, code, sizeof(code), msg, sizeof(msg));
	azure_async_parse(s, size, st, sizeof(st), code, sizeof(code), msg, sizeof(msg));
	azure_missing_registration(s, size, code, sizeof(code));
	if (azure_page_parse(s, size, &items, &next) == 0) {
		cJSON_ArrayForEach(it, items)
		{
			struct azure_vm v;
			struct azure_nic n;

			if (azure_vm_read(it, &v) == 0 && v.tags)
				(void)cJSON_GetArraySize(v.tags);
			if (azure_nic_read(it, &n) == 0 && n.created_at)
				azure_parse_rfc3339(n.created_at, &x);
		}
		cJSON_Delete(items);
		free(next);
	}
	azure_parse_rfc3339(s, &x);
	azure_retry_after_ms(s, 1700000000000LL);
	azure_env_resolve("AzureStackCloud", s, &e, err, sizeof(err));
	azure_capacity_code(s);
	azure_quota_text(s, s);
	free(s);
	return 0;
}
