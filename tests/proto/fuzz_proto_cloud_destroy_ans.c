/* fuzz_proto_cloud_destroy_ans.c - libFuzzer target for the CLOUD_DESTROY_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(destroy_ans, PROTO_CLOUD_DESTROY_ANS)
