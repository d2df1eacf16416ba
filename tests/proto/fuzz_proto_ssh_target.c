/* fuzz_proto_ssh_target.c - libFuzzer target for the ssh_target decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_target", PROTO_SSH_BOOT_PROBE_REQ, 0)
