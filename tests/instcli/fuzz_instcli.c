/* fuzz_instcli.c - the instance client's decoders on arbitrary response bodies: the list
 * formatter (instance views -> lines) and the error-message extractor. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "instance_cli_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], *text = NULL;

	if (icli_format_response((const char *)data, size, &text, why, sizeof(why)) == 0) {
		if (text == NULL)
			abort();
		/* Output is whole lines: empty, or ending with a newline. */
		size_t n = strlen(text);
		if (n > 0 && text[n - 1] != '\n')
			abort();
	} else if (text != NULL || memchr(why, '\0', sizeof(why)) == NULL) {
		abort();
	}
	free(text);
	free(icli_error_message((const char *)data, size));
	return 0;
}
