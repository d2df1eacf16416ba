/* fuzz_proto_ssh_ans.c - libFuzzer target for the ssh_ans decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_ans", PROTO_SSH_RUN_PROBE_ANS, 0)
