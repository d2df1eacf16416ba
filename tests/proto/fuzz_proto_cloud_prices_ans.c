/* fuzz_proto_cloud_prices_ans.c - libFuzzer target for the CLOUD_PRICES_ANS decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_prices_ans", PROTO_CLOUD_PRICES_ANS, 0)
