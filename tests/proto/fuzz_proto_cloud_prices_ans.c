/* fuzz_proto_cloud_prices_ans.c - libFuzzer target for the CLOUD_PRICES_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(prices_ans, PROTO_CLOUD_PRICES_ANS)
