/* fuzz_proto_ping.c - libFuzzer target for proto_ping_decode (see fuzz_helper.h). */
#include "fuzz_helper.h"

PROTO_FUZZ_TARGET("ping", PROTO_PING_ANS, 0)
