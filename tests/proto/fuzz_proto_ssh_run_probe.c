/* fuzz_proto_ssh_run_probe.c - libFuzzer target for the ssh_run_probe decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_run_probe", PROTO_SSH_RUN_PROBE_REQ, 0)
