/*
 * fuzz_sshpool_answer.c - libFuzzer target: what a worker controls in a command's result
 * (stdout and stderr in arbitrary chunks, the exit status, the exit signal's name, the host
 * key line) through sshd-pool's own handling of it: the bounded buffers (sess_cmd_keep), the
 * answer to the parent (sshpool_answer_of), its encoding (proto_ssh_ans_encode), then the
 * parent's decoder of that answer (proto_ssh_ans_decode).
 *
 * The property: whatever a worker sends, sshd-pool's answer encodes, and the parent decodes it
 * to the same output. An answer that does not encode is never sent (the parent's call times
 * out), and one the parent refuses is a protocol violation that restarts sshd-pool: either
 * would let one worker's user disturb the dispatcher's view of every worker.
 *
 * Input: 4 bytes (outcome, answer type, exit status), then fields separated by 0x1e: the exit
 * signal name, the host key line, then the output: chunks separated by 0x1f, alternately
 * stdout and stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "proto_ssh.h"
#include "sess_internal.h"
#include "sshpool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *
field(const uint8_t **p, const uint8_t *end, uint8_t sep, size_t *n)
{
	const uint8_t *s = *p, *e = memchr(s, sep, (size_t)(end - s));

	if (!e)
		e = end;
	*n = (size_t)(e - s);
	*p = e < end ? e + 1 : end;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int outcomes[] = { OPS_OK, OPS_EXIT, OPS_BAD_SECRET, OPS_UNSAFE_DIR };
	static const uint16_t types[] = { PROTO_SSH_VERIFY_ANS, PROTO_SSH_BOOT_PROBE_ANS,
					  PROTO_SSH_DEPLOY_ANS, PROTO_SSH_RUN_PROBE_ANS,
					  PROTO_SSH_START_ANS,	PROTO_SSH_KILL_ANS };
	const uint8_t *p = data + 4, *end = data + size, *s;
	struct sess_result r = { 0 };
	struct proto_ssh_ans a, back;
	struct sshpool_ans_text t;
	struct proto_wbuf w;
	struct proto_msg m;
	size_t out_cap = 0, err_cap = 0, n;
	char *host_key;
	uint16_t type;

	if (size < 4)
		return 0;
	type = types[data[1] % (sizeof(types) / sizeof(types[0]))];
	r.exit_status = (int8_t)data[2] * 2 + (data[3] & 1); /* around 0, -1 and 255 */
	s = field(&p, end, 0x1e, &n);
	/* libssh hands the signal name over as a C string; sess_cmd_on_signal keeps 31 bytes */
	snprintf(r.exit_signal, sizeof(r.exit_signal), "%.*s", (int)n, (const char *)s);
	s = field(&p, end, 0x1e, &n);
	if (!(host_key = strndup((const char *)s, n)))
		abort();
	r.host_key = n ? host_key : NULL;
	for (int i = 0; p < end; i++) {
		s = field(&p, end, 0x1f, &n);
		if (i % 2)
			sess_cmd_keep(&r.err, &r.err_len, &err_cap, &r.err_truncated,
				      PROTO_SSH_MAX_ERR, s, n);
		else
			sess_cmd_keep(&r.out, &r.out_len, &out_cap, &r.out_truncated,
				      PROTO_SSH_MAX_OUT, s, n);
	}
	if (r.out_len > PROTO_SSH_MAX_OUT || r.err_len > PROTO_SSH_MAX_ERR)
		abort();
	sshpool_answer_of(outcomes[data[0] % 4], &r, type, data[0] & 4 ? host_key : NULL, &a, &t);
	if (proto_ssh_ans_encode(&w, type, 7, &a) != 0)
		abort(); /* "cannot send an answer": the parent would wait for nothing */
	memset(&m, 0, sizeof(m));
	if (proto_hdr_parse(w.data, w.len, &m.hdr) != 0)
		abort();
	m.payload = w.data + PROTO_HDR_LEN;
	m.payload_len = w.len - PROTO_HDR_LEN;
	m.fd = -1;
	if (proto_ssh_ans_decode(&m, &back) != 0)
		abort(); /* the parent would call it a protocol violation */
	if (back.out_len != a.out_len || (a.out_len && memcmp(back.out, a.out, a.out_len)) ||
	    back.err_len != a.err_len || (a.err_len && memcmp(back.err, a.err, a.err_len)) ||
	    back.outcome != a.outcome || back.exit_status != a.exit_status)
		abort();
	proto_ssh_ans_free(&back);
	proto_wbuf_free(&w);
	free(r.out);
	free(r.err);
	free(host_key);
	return 0;
}
