/*
 * test_proto_ssh.c - the worker operations (proto_ssh.h): round trip of every field, the
 * structural rules of the decoders, the value checks, and the mutation sweep of
 * test_proto_msgs.c over proto_ssh_cases (every bit flip, truncation, 1..16-byte extension).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto_ssh_cases.h"

#define UUID "zzzzz-dz642-0123456789abcde"

static struct proto_msg
view(const struct proto_wbuf *w)
{
	struct proto_msg m;

	assert_int_equal(proto_case_view(w->data, w->len, &m), 0);
	return m;
}

static void
test_verify(void **state)
{
	struct proto_ssh_verify in = { "i-1", "127.0.1.5", 2222, "crunch", (uint8_t *)"ab\0c", 4 };
	struct proto_ssh_verify out;
	struct proto_wbuf w;
	struct proto_msg m;
	char why[256];

	(void)state;
	assert_int_equal(proto_ssh_verify_encode(&w, 5, 1234, &in), 0);
	assert_true(w.secret); /* the expected secret is wiped with the buffer */
	m = view(&w);
	assert_int_equal(m.hdr.type, PROTO_SSH_VERIFY_REQ);
	assert_int_equal(m.hdr.timeout_ms, 1234);
	assert_int_equal(proto_ssh_verify_decode(&m, &out), 0);
	assert_string_equal(out.instance_id, "i-1");
	assert_string_equal(out.address, "127.0.1.5");
	assert_int_equal(out.port, 2222);
	assert_string_equal(out.user, "crunch");
	assert_int_equal(out.secret_len, 4);
	assert_memory_equal(out.secret, "ab\0c", 4);
	assert_int_equal(proto_ssh_verify_check(&out, why, sizeof(why)), 0);
	proto_ssh_verify_free(&out);
	assert_null(out.secret);
	m.hdr.flags = PROTO_F_FD; /* no fd belongs to a verify */
	assert_int_equal(proto_ssh_verify_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);

	in.address = "localhost"; /* nothing resolves names */
	assert_int_equal(proto_ssh_verify_check(&in, why, sizeof(why)), -EINVAL);
	in.address = "::1";
	in.user = "Root";
	assert_int_equal(proto_ssh_verify_check(&in, why, sizeof(why)), -EINVAL);
	in.user = "root";
	in.port = 0;
	assert_int_equal(proto_ssh_verify_check(&in, why, sizeof(why)), -EINVAL);
	in.port = 22;
	in.secret_len = 0;
	assert_int_equal(proto_ssh_verify_check(&in, why, sizeof(why)), -EINVAL);
	in.secret_len = PROTO_SSH_MAX_SECRET + 1;
	assert_int_equal(proto_ssh_verify_encode(&w, 1, 1, &in), -EMSGSIZE);
	assert_null(w.data);
}

static void
test_start(void **state)
{
	static char *args[] = { "--a", "it's" };
	struct proto_ssh_start in = { "i-1", UUID, "docker", args, 2, (uint8_t *)"{}", 2 }, out;
	struct proto_wbuf w;
	struct proto_msg m;
	char why[256];

	(void)state;
	assert_int_equal(proto_ssh_start_encode(&w, 1, 1, &in, false), 0);
	assert_true(w.secret); /* the payload holds a token */
	m = view(&w);
	assert_int_equal(proto_ssh_start_decode(&m, &out), 0);
	assert_string_equal(out.uuid, UUID);
	assert_string_equal(out.runtime_engine, "docker");
	assert_int_equal(out.nargs, 2);
	assert_string_equal(out.args[1], "it's");
	assert_int_equal(out.payload_len, 2);
	assert_int_equal(proto_ssh_start_check(&out, false, why, sizeof(why)), 0);
	proto_ssh_start_free(&out);
	m.hdr.flags = PROTO_F_FD; /* fd and inline payload: refused */
	assert_int_equal(proto_ssh_start_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);

	/* With the fd the payload is not sent; without either, nothing is. */
	assert_int_equal(proto_ssh_start_encode(&w, 1, 1, &in, true), 0);
	assert_int_equal(proto_wbuf_flags(&w) & PROTO_F_FD, PROTO_F_FD);
	m = view(&w);
	assert_int_equal(proto_ssh_start_decode(&m, &out), 0);
	assert_null(out.payload);
	assert_int_equal(proto_ssh_start_check(&out, true, why, sizeof(why)), 0);
	assert_int_equal(proto_ssh_start_check(&out, false, why, sizeof(why)), -EINVAL);
	proto_ssh_start_free(&out);
	proto_wbuf_free(&w);
	in.payload_len = 0;
	assert_int_equal(proto_ssh_start_encode(&w, 1, 1, &in, false), -EINVAL);

	/* Values: the encoder sends them (raw), the check refuses them. */
	in.payload_len = 2;
	in.uuid = "zzzzz-dz642-01234'$(id)cde";
	assert_int_equal(proto_ssh_start_check(&in, false, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "UUID"));
	in.uuid = UUID;
	in.runtime_engine = "docker;id";
	assert_int_equal(proto_ssh_start_check(&in, false, why, sizeof(why)), -EINVAL);
	in.runtime_engine = "docker";
	in.nargs = PROTO_SSH_MAX_ARGS + 1;
	assert_int_equal(proto_ssh_start_encode(&w, 1, 1, &in, false), -EMSGSIZE);
}

static void
test_kill_target_deploy(void **state)
{
	struct proto_ssh_kill k = { "i-1", UUID, 15 }, ko;
	struct proto_ssh_deploy d = { "i-1", "d41d8cd98f00b204e9800998ecf8427e" }, dout;
	struct proto_ssh_target t = { "i-1" };
	struct proto_wbuf w;
	struct proto_msg m;
	char why[256];

	(void)state;
	assert_int_equal(proto_ssh_kill_encode(&w, 1, 1, &k), 0);
	m = view(&w);
	assert_int_equal(proto_ssh_kill_decode(&m, &ko), 0);
	assert_int_equal(ko.signal, 15);
	assert_string_equal(ko.uuid, UUID);
	proto_ssh_kill_free(&ko);
	proto_wbuf_free(&w);
	k.signal = 0;
	assert_int_equal(proto_ssh_kill_check(&k, why, sizeof(why)), -EINVAL);
	k.signal = 65;
	assert_int_equal(proto_ssh_kill_check(&k, why, sizeof(why)), -EINVAL);

	assert_int_equal(proto_ssh_deploy_encode(&w, 1, 1, &d), 0);
	m = view(&w);
	assert_int_equal(proto_ssh_deploy_decode(&m, &dout), 0);
	proto_ssh_deploy_free(&dout);
	m.hdr.flags = 0; /* a deploy without the binary */
	assert_int_equal(proto_ssh_deploy_decode(&m, &dout), -EBADMSG);
	proto_wbuf_free(&w);
	d.md5 = "D41D8CD98F00B204E9800998ECF8427E";
	assert_int_equal(proto_ssh_deploy_check(&d, why, sizeof(why)), -EINVAL);

	assert_int_equal(proto_ssh_target_encode(&w, PROTO_SSH_KILL_REQ, 1, 1, &t), -EINVAL);
	t.instance_id = "has space";
	assert_int_equal(proto_ssh_target_check(&t, why, sizeof(why)), -EINVAL);
	t.instance_id = "";
	assert_int_equal(proto_ssh_target_check(&t, why, sizeof(why)), -EINVAL);
}

static void
test_ans(void **state)
{
	struct proto_ssh_ans a = { .outcome = PROTO_SSH_EXIT,
				   .exit_status = 3,
				   .exit_signal = "",
				   .out = (uint8_t *)"o",
				   .out_len = 1,
				   .err = (uint8_t *)"e",
				   .err_len = 1,
				   .err_truncated = true,
				   .message = "m",
				   .host_key_fp = "SHA256:x",
				   .pinned = true },
			     out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_ssh_ans_encode(&w, PROTO_SSH_START_ANS, 4, &a), 0);
	m = view(&w);
	assert_int_equal(proto_ssh_ans_decode(&m, &out), 0);
	assert_int_equal(out.outcome, PROTO_SSH_EXIT);
	assert_int_equal(out.exit_status, 3);
	assert_memory_equal(out.out, "o", 1);
	assert_true(out.err_truncated);
	assert_false(out.out_truncated);
	assert_string_equal(out.host_key_fp, "SHA256:x");
	assert_true(out.pinned);
	proto_ssh_ans_free(&out);
	/* A verify answer never carries stdout (the worker's secret). */
	m.hdr.type = PROTO_SSH_VERIFY_ANS;
	assert_int_equal(proto_ssh_ans_decode(&m, &out), -EBADMSG);
	m.hdr.type = PROTO_SSH_VERIFY_REQ;
	assert_int_equal(proto_ssh_ans_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);
	assert_int_equal(proto_ssh_ans_encode(&w, PROTO_SSH_VERIFY_ANS, 4, &a), -EINVAL);
	a.outcome = PROTO_SSH_OK; /* OK with a non-zero exit status */
	assert_int_equal(proto_ssh_ans_encode(&w, PROTO_SSH_KILL_ANS, 4, &a), -EINVAL);
	a.outcome = PROTO_SSH_OUTCOME_LAST + 1;
	assert_int_equal(proto_ssh_ans_encode(&w, PROTO_SSH_KILL_ANS, 4, &a), -EINVAL);
	a.outcome = PROTO_SSH_EXIT;
	a.out_len = PROTO_SSH_MAX_OUT + 1;
	assert_int_equal(proto_ssh_ans_encode(&w, PROTO_SSH_KILL_ANS, 4, &a), -EMSGSIZE);
	assert_int_equal(proto_ssh_ans_type(PROTO_SSH_FORGET_REQ), PROTO_SSH_FORGET_ANS);
	assert_int_equal(proto_ssh_ans_type(PROTO_SSH_INIT_REQ), 0);
	/* The biggest answer fits one message. */
	assert_true(PROTO_HDR_LEN + 1 + 4 + 4 + PROTO_SSH_MAX_SIGNAL_NAME + 4 + PROTO_SSH_MAX_OUT +
			    1 + 4 + PROTO_SSH_MAX_ERR + 1 + 4 + PROTO_SSH_MAX_TEXT + 4 +
			    PROTO_SSH_MAX_FP + 1 <=
		    PROTO_MAX_MSG);
}

static void
test_catalogue(void **state)
{
	(void)state;
	for (uint16_t t = PROTO_SSH_VERIFY_REQ; t <= PROTO_SSH_FORGET_ANS; t++) {
		enum proto_dir dir = (t & 1) ? PROTO_C2P : PROTO_P2C;

		assert_true(proto_type_known(t));
		assert_int_equal(proto_type_check(t, dir, PROTO_ROLE_SSHD_POOL), 0);
		assert_int_equal(proto_type_check(t, dir, PROTO_ROLE_CLOUDD), -EPROTO);
	}
}

/* ---- mutation sweep (as test_proto_msgs.c) ---- */

static int
check_whole(const struct proto_case *c, const uint8_t *buf, size_t len)
{
	struct proto_msg m;
	int rc;

	if (proto_case_view(buf, len, &m) != 0)
		return -EBADMSG;
	rc = c->check(&m);
	assert_int_not_equal(rc, -EILSEQ);
	assert_true(rc == 0 || rc == -EBADMSG);
	return rc;
}

static int
check_payload(const struct proto_case *c, const struct proto_msg *orig, const uint8_t *p, size_t n)
{
	struct proto_msg m = *orig;

	m.payload = p;
	m.payload_len = n;
	m.hdr.len = (uint32_t)(PROTO_HDR_LEN + n);
	return c->check(&m);
}

static void
mutate_one(const struct proto_case *c, const struct proto_wbuf *w)
{
	uint8_t *buf = malloc(w->len + 16);
	struct proto_msg m;
	size_t plen = w->len - PROTO_HDR_LEN;

	assert_non_null(buf);
	assert_int_equal(check_whole(c, w->data, w->len), 0);
	for (size_t bit = 0; bit < w->len * 8; bit++) {
		memcpy(buf, w->data, w->len);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		(void)check_whole(c, buf, w->len);
	}
	m = view(w);
	for (size_t n = 0; n < plen; n++)
		assert_int_not_equal(check_payload(c, &m, m.payload, n), 0);
	for (size_t extra = 1; extra <= 16; extra++) {
		for (int fill = 0; fill < 2; fill++) {
			memcpy(buf, w->data + PROTO_HDR_LEN, plen);
			memset(buf + plen, fill ? 0xff : 0x00, extra);
			assert_int_not_equal(check_payload(c, &m, buf, plen + extra), 0);
		}
	}
	free(buf);
}

static void
test_mutations(void **state)
{
	(void)state;
	for (size_t i = 0; i < proto_ssh_ncases; i++) {
		const struct proto_case *c = &proto_ssh_cases[i];

		for (int s = 0; s < c->nsamples; s++) {
			struct proto_wbuf w;

			assert_int_equal(c->sample(&w, s), 0);
			mutate_one(c, &w);
			proto_wbuf_free(&w);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_kill_target_deploy),
		cmocka_unit_test(test_ans),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
