/* fuzz_proto_cloud_create.c - libFuzzer target for the CLOUD_CREATE_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(create, PROTO_CLOUD_CREATE_REQ)
