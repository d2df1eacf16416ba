/* fuzz_proto_hello.c - libFuzzer target for proto_hello_decode (see fuzz_helper.h). */
#include "fuzz_helper.h"

PROTO_FUZZ_TARGET("hello", PROTO_HELLO_REQ, 0)
