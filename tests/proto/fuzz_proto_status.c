/* fuzz_proto_status.c - libFuzzer target for proto_status_decode (see fuzz_helper.h). */
#include "fuzz_helper.h"

PROTO_FUZZ_TARGET("status", PROTO_CLOUD_INIT_ANS, 0)
