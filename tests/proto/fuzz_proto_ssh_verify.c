/* fuzz_proto_ssh_verify.c - libFuzzer target for the ssh_verify decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_verify", PROTO_SSH_VERIFY_REQ, 0)
