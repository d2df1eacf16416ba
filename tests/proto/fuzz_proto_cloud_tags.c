/* fuzz_proto_cloud_tags.c - libFuzzer target for the CLOUD_TAGS_REQ decoder (fuzz_cloud_helper.h). */
#include "fuzz_cloud_helper.h"

PROTO_CLOUD_FUZZ_TARGET(tags, PROTO_CLOUD_TAGS_REQ)
