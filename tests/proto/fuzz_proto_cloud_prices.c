/* fuzz_proto_cloud_prices.c - libFuzzer target for the CLOUD_PRICES_REQ decoder (fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_cloud_cases.h"

PROTO_FUZZ_TARGET_OF(proto_cloud_case_find, "cloud_prices", PROTO_CLOUD_PRICES_REQ, 0)
