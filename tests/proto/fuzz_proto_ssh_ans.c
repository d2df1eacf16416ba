/* fuzz_proto_ssh_ans.c - libFuzzer target for the ssh_ans decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_ans", PROTO_SSH_RUN_PROBE_ANS, 0)
