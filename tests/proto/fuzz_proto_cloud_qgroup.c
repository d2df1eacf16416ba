/* fuzz_proto_cloud_qgroup.c - libFuzzer target for the CLOUD_QGROUP_REQ decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_qgroup", PROTO_CLOUD_QGROUP_REQ, 0)
