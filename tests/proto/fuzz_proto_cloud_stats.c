/* fuzz_proto_cloud_stats.c - libFuzzer target for the CLOUD_STATS_REQ decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_stats", PROTO_CLOUD_STATS_REQ, 0)
