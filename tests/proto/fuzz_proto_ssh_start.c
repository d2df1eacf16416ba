/* fuzz_proto_ssh_start.c - libFuzzer target for the ssh_start decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_start", PROTO_SSH_START_REQ, PROTO_F_FD)
