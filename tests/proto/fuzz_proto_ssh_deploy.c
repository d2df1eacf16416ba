/* fuzz_proto_ssh_deploy.c - libFuzzer target for the ssh_deploy decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_deploy", PROTO_SSH_DEPLOY_REQ, PROTO_F_FD)
