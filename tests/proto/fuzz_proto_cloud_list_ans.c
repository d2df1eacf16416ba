/* fuzz_proto_cloud_list_ans.c - libFuzzer target for the CLOUD_LIST_ANS decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_list_ans", PROTO_CLOUD_LIST_ANS, 0)
