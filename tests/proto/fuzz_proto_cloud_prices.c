/* fuzz_proto_cloud_prices.c - libFuzzer target for the CLOUD_PRICES_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(prices, PROTO_CLOUD_PRICES_REQ)
