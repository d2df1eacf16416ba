/* fuzz_proto_cloud_stats_ans.c - libFuzzer target for the CLOUD_STATS_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(stats_ans, PROTO_CLOUD_STATS_ANS)
