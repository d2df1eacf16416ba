/* fuzz_proto_cloud_qgroup_ans.c - libFuzzer target for the CLOUD_QGROUP_ANS decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(qgroup_ans, PROTO_CLOUD_QGROUP_ANS)
