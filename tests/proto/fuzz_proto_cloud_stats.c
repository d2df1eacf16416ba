/* fuzz_proto_cloud_stats.c - libFuzzer target for the CLOUD_STATS_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(stats, PROTO_CLOUD_STATS_REQ)
