/* fuzz_proto_cloud_qgroup.c - libFuzzer target for the CLOUD_QGROUP_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(qgroup, PROTO_CLOUD_QGROUP_REQ)
