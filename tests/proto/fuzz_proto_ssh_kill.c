/* fuzz_proto_ssh_kill.c - libFuzzer target for the ssh_kill decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_kill", PROTO_SSH_KILL_REQ, 0)
