/* fuzz_proto_cloud_tags.c - libFuzzer target for the CLOUD_TAGS_REQ decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_tags", PROTO_CLOUD_TAGS_REQ, 0)
