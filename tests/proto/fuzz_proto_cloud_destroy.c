/* fuzz_proto_cloud_destroy.c - libFuzzer target for the CLOUD_DESTROY_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(destroy, PROTO_CLOUD_DESTROY_REQ)
