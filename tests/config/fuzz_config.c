/* fuzz_config.c - libFuzzer target: any bytes through cfg_load_buffer, no crash, no leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c = cfg_load_buffer((const char *)data, size, "fuzz", &d);

	/* Every diag must format; a loaded cluster must have what the API promises. */
	for (size_t i = 0; i < d.n; i++)
		free(cfg_diag_format(&d.v[i]));
	if (c && (!c->cluster_id || !c->worker_cluster_json || !c->secrets.driver_parameters_json))
		abort();
	if (!c && d.nerrors == 0)
		abort();
	cfg_free(c);
	cfg_diags_free(&d);
	return 0;
}
