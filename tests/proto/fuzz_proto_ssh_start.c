/* fuzz_proto_ssh_start.c - libFuzzer target for the ssh_start decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_start", PROTO_SSH_START_REQ, PROTO_F_FD)
