/* fuzz_proto_cloud_create.c - libFuzzer target for the CLOUD_CREATE_REQ decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_create", PROTO_CLOUD_CREATE_REQ, 0)
