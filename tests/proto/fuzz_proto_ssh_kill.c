/* fuzz_proto_ssh_kill.c - libFuzzer target for the ssh_kill decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_kill", PROTO_SSH_KILL_REQ, 0)
