/* fuzz_proto_cloud_list.c - libFuzzer target for the CLOUD_LIST_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(list, PROTO_CLOUD_LIST_REQ)
