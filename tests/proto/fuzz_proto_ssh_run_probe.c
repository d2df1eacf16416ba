/* fuzz_proto_ssh_run_probe.c - libFuzzer target for the ssh_run_probe decoder (see fuzz_helper_ssh.h). */
#include "fuzz_helper_ssh.h"

PROTO_SSH_FUZZ_TARGET("ssh_run_probe", PROTO_SSH_RUN_PROBE_REQ, 0)
