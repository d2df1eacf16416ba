/* fuzz_proto_cloud_list_ans.c - libFuzzer target for the CLOUD_LIST_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(list_ans, PROTO_CLOUD_LIST_ANS)
