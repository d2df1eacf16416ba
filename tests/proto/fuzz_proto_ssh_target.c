/* fuzz_proto_ssh_target.c - libFuzzer target for the ssh_target decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_target", PROTO_SSH_BOOT_PROBE_REQ, 0)
