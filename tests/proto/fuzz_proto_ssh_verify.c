/* fuzz_proto_ssh_verify.c - libFuzzer target for the ssh_verify decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_verify", PROTO_SSH_VERIFY_REQ, 0)
