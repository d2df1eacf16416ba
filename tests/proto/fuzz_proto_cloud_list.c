/* fuzz_proto_cloud_list.c - libFuzzer target for the CLOUD_LIST_REQ decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_list", PROTO_CLOUD_LIST_REQ, 0)
