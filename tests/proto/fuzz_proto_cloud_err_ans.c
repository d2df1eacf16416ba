/* fuzz_proto_cloud_err_ans.c - libFuzzer target for the CLOUD_TAGS_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(err_ans, PROTO_CLOUD_TAGS_ANS)
