/* fuzz_proto_cloud_create_ans.c - libFuzzer target for the CLOUD_CREATE_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(create_ans, PROTO_CLOUD_CREATE_ANS)
