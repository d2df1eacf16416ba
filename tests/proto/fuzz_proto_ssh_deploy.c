/* fuzz_proto_ssh_deploy.c - libFuzzer target for the ssh_deploy decoder (see fuzz_helper.h). */
#include "fuzz_helper.h"
#include "proto_ssh_cases.h"

PROTO_FUZZ_TARGET_OF(proto_ssh_case_find, "ssh_deploy", PROTO_SSH_DEPLOY_REQ, PROTO_F_FD)
