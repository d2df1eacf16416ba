/* fuzz_proto_cloud_init.c - libFuzzer target for proto_cloud_init_decode (see fuzz_helper.h). */
#include "fuzz_helper.h"

PROTO_FUZZ_TARGET("cloud_init", PROTO_CLOUD_INIT_REQ, 0)
