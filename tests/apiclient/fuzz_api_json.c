/* fuzz_api_json.c - libFuzzer target for what the API client reads from the server: the
 * exact-integer JSON parse (api_json) and the error text built from an error body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_error.h"
#include "api_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = NULL, *again = NULL;
	char *text;

	if (api_json_parse((const char *)data, size, &j, NULL) == 0) {
		/* What we print from a parsed tree must parse again. */
		text = api_json_print(j);
		if (text != NULL) {
			if (api_json_parse(text, strlen(text), &again, NULL) != 0)
				abort();
			cJSON_Delete(again);
			free(text);
		}
		cJSON_Delete(j);
	}
	text = api_error_http("GET https://x/y", 422, (const char *)data, size);
	free(text);
	return 0;
}
