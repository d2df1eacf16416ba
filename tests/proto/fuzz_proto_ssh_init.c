/* fuzz_proto_ssh_init.c - libFuzzer target for proto_ssh_init_decode (see fuzz_helper.h). */
#include "fuzz_helper.h"

PROTO_FUZZ_TARGET("ssh_init", PROTO_SSH_INIT_REQ, PROTO_F_FD)
