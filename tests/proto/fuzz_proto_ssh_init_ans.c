/* fuzz_proto_ssh_init_ans.c - libFuzzer target for proto_ssh_init_ans_decode (see fuzz_helper.h). */
#include "fuzz_helper.h"

PROTO_FUZZ_TARGET("ssh_init_ans", PROTO_SSH_INIT_ANS, 0)
