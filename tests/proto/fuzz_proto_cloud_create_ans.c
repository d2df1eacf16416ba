/* fuzz_proto_cloud_create_ans.c - libFuzzer target for the CLOUD_CREATE_ANS decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_create_ans", PROTO_CLOUD_CREATE_ANS, 0)
