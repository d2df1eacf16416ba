/*
 * test_proto_msgs.c - every typed message: round trip of every field, type checks, bounds,
 * and a mutation sweep (OpenSSH test_helper FUZZ_*): every single-bit flip, every
 * truncation and every extension by 1..16 bytes of each valid sample encoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_cases.h"

/* A received-message view of an encoded wbuf. */
static struct proto_msg
view(const struct proto_wbuf *w)
{
	struct proto_msg m;

	assert_int_equal(proto_case_view(w->data, w->len, &m), 0);
	return m;
}

static void
test_hello(void **state)
{
	struct proto_hello in = { PROTO_VERSION, "build-1", "sshd-pool", 31337 }, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_hello_encode(&w, PROTO_HELLO_ANS, 44, &in), 0);
	assert_false(w.secret);
	m = view(&w);
	assert_int_equal(m.hdr.type, PROTO_HELLO_ANS);
	assert_int_equal(m.hdr.reqid, 44);
	assert_int_equal(proto_hello_decode(&m, &out), 0);
	assert_int_equal(out.version, PROTO_VERSION);
	assert_string_equal(out.build_id, "build-1");
	assert_string_equal(out.role, "sshd-pool");
	assert_int_equal(out.pid, 31337);
	proto_hello_free(&out);
	assert_null(out.build_id);
	m.hdr.type = PROTO_PING_REQ;
	assert_int_equal(proto_hello_decode(&m, &out), -EBADMSG);
	assert_null(out.build_id);
	proto_wbuf_free(&w);
	assert_int_equal(proto_hello_encode(&w, PROTO_PING_REQ, 1, &in), -EINVAL);
	assert_null(w.data);
}

static void
test_hello_bounds(void **state)
{
	char id[PROTO_MAX_BUILD_ID + 2];
	struct proto_hello in = { 1, id, "cloudd", 1 };
	struct proto_wbuf w;

	(void)state;
	memset(id, 'b', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(proto_hello_encode(&w, PROTO_HELLO_REQ, 1, &in), -EMSGSIZE);
	assert_null(w.data);
	id[PROTO_MAX_BUILD_ID] = '\0';
	assert_int_equal(proto_hello_encode(&w, PROTO_HELLO_REQ, 1, &in), 0);
	proto_wbuf_free(&w);
}

static void
test_ping(void **state)
{
	struct proto_ping in = { 0xfedcba9876543210ull }, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_ping_encode(&w, PROTO_PING_REQ, 2, &in), 0);
	m = view(&w);
	assert_int_equal(proto_ping_decode(&m, &out), 0);
	assert_true(out.nonce == in.nonce);
	m.hdr.type = PROTO_PING_ANS;
	assert_int_equal(proto_ping_decode(&m, &out), 0);
	m.hdr.type = PROTO_HELLO_ANS;
	assert_int_equal(proto_ping_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);
}

static void
test_status(void **state)
{
	struct proto_status in = { PROTO_E_FAILED, "no such region" }, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_status_encode(&w, PROTO_CLOUD_INIT_ANS, 8, &in), 0);
	m = view(&w);
	assert_int_equal(proto_status_decode(&m, &out), 0);
	assert_int_equal(out.status, PROTO_E_FAILED);
	assert_string_equal(out.message, "no such region");
	proto_status_free(&out);
	m.hdr.type = PROTO_CLOUD_INIT_REQ;
	assert_int_equal(proto_status_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);
	/* Status codes are a closed set. */
	in.status = PROTO_E_LAST + 1;
	assert_int_equal(proto_status_encode(&w, PROTO_CLOUD_INIT_ANS, 8, &in), -EINVAL);
	in.status = PROTO_OK;
	in.message = NULL;
	assert_int_equal(proto_status_encode(&w, PROTO_CLOUD_INIT_ANS, 8, &in), 0);
	w.data[PROTO_HDR_LEN + 3] = PROTO_E_LAST + 1;
	m = view(&w);
	assert_int_equal(proto_status_decode(&m, &out), -EBADMSG);
	assert_null(out.message);
	proto_wbuf_free(&w);
}

static void
test_cloud_init(void **state)
{
	char *keys[] = { "Owner", "Cost-Center" }, *vals[] = { "arvados", "" };
	struct proto_cloud_init in = {
		.driver = "azure", .driver_params_json = "{\"ClientSecret\":\"hush\"}",
		.instance_set_id = "zzzzz-set", .tag_key_prefix = "Arvados",
		.shared_tag_keys = keys, .shared_tag_values = vals, .n_shared_tags = 2,
	}, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_cloud_init_encode(&w, 21, 15000, &in), 0);
	assert_true(w.secret);
	m = view(&w);
	assert_int_equal(m.hdr.type, PROTO_CLOUD_INIT_REQ);
	assert_int_equal(m.hdr.reqid, 21);
	assert_int_equal(m.hdr.timeout_ms, 15000);
	assert_int_equal(proto_cloud_init_decode(&m, &out), 0);
	assert_string_equal(out.driver, "azure");
	assert_string_equal(out.driver_params_json, "{\"ClientSecret\":\"hush\"}");
	assert_string_equal(out.instance_set_id, "zzzzz-set");
	assert_string_equal(out.tag_key_prefix, "Arvados");
	assert_int_equal(out.n_shared_tags, 2);
	assert_string_equal(out.shared_tag_keys[0], "Owner");
	assert_string_equal(out.shared_tag_values[0], "arvados");
	assert_string_equal(out.shared_tag_keys[1], "Cost-Center");
	assert_string_equal(out.shared_tag_values[1], "");
	proto_cloud_init_free(&out);
	assert_null(out.driver_params_json);
	proto_wbuf_free(&w);
}

static void
test_cloud_init_bounds(void **state)
{
	static char *keys[PROTO_MAX_TAGS + 1], *vals[PROTO_MAX_TAGS + 1];
	struct proto_cloud_init in = { .driver = "ec2",
				       .driver_params_json = "{}",
				       .shared_tag_keys = keys,
				       .shared_tag_values = vals },
				out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	for (size_t i = 0; i <= PROTO_MAX_TAGS; i++) {
		keys[i] = "k";
		vals[i] = "v";
	}
	in.n_shared_tags = PROTO_MAX_TAGS;
	assert_int_equal(proto_cloud_init_encode(&w, 1, 1, &in), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_init_decode(&m, &out), 0);
	assert_int_equal(out.n_shared_tags, PROTO_MAX_TAGS);
	proto_cloud_init_free(&out);
	proto_wbuf_free(&w);
	in.n_shared_tags = PROTO_MAX_TAGS + 1;
	assert_int_equal(proto_cloud_init_encode(&w, 1, 1, &in), -EMSGSIZE);
	/* Forge a count of 257 on the wire: the decoder refuses it before allocating. */
	in.n_shared_tags = PROTO_MAX_TAGS;
	assert_int_equal(proto_cloud_init_encode(&w, 1, 1, &in), 0);
	{
		/* driver(4+3) params(4+2) set(4) prefix(4), then the u32 count */
		size_t at = PROTO_HDR_LEN + 7 + 6 + 4 + 4;

		assert_int_equal(w.data[at + 2], 1); /* 256 = 0x00000100 */
		w.data[at + 3] = 1;		     /* 257 */
	}
	m = view(&w);
	assert_int_equal(proto_cloud_init_decode(&m, &out), -EBADMSG);
	assert_null(out.shared_tag_keys);
	proto_wbuf_free(&w);
}

static void
test_ssh_init(void **state)
{
	uint8_t key[] = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n";
	struct proto_ssh_init in = {
		.private_key = key, .private_key_len = sizeof(key) - 1,
		.boot_probe_command = "true", .ssh_port = "2222", .cluster_id = "zzzzz",
		.connect_timeout_ms = 1234, .command_timeout_ms = 5678,
	}, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_ssh_init_encode(&w, 3, 100, &in, false), 0);
	assert_true(w.secret);
	m = view(&w);
	assert_int_equal(m.hdr.flags, 0);
	assert_int_equal(proto_ssh_init_decode(&m, &out), 0);
	assert_int_equal(out.private_key_len, sizeof(key) - 1);
	assert_memory_equal(out.private_key, key, sizeof(key) - 1);
	assert_string_equal(out.boot_probe_command, "true");
	assert_string_equal(out.ssh_port, "2222");
	assert_string_equal(out.cluster_id, "zzzzz");
	assert_int_equal(out.connect_timeout_ms, 1234);
	assert_int_equal(out.command_timeout_ms, 5678);
	proto_ssh_init_free(&out);
	assert_null(out.private_key);
	/* The flag must agree with the payload: F_FD claimed but a key inline. */
	m.hdr.flags = PROTO_F_FD;
	assert_int_equal(proto_ssh_init_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);

	assert_int_equal(proto_ssh_init_encode(&w, 3, 100, &in, true), 0);
	m = view(&w);
	assert_int_equal(m.hdr.flags, PROTO_F_FD);
	assert_int_equal(proto_ssh_init_decode(&m, &out), 0);
	assert_null(out.private_key);
	assert_int_equal(out.private_key_len, 0);
	assert_string_equal(out.ssh_port, "2222");
	proto_ssh_init_free(&out);
	m.hdr.flags = 0; /* no key at all */
	assert_int_equal(proto_ssh_init_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);

	in.private_key_len = 0;
	assert_int_equal(proto_ssh_init_encode(&w, 3, 100, &in, false), -EINVAL);
	in.private_key_len = PROTO_MAX_PRIVATE_KEY + 1;
	assert_int_equal(proto_ssh_init_encode(&w, 3, 100, &in, false), -EMSGSIZE);
	assert_null(w.data);
}

static void
test_ssh_init_ans(void **state)
{
	struct proto_ssh_init_ans in = { PROTO_OK, "", "ssh-ed25519 AAAA dispatch" }, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_ssh_init_ans_encode(&w, 4, &in), 0);
	m = view(&w);
	assert_int_equal(m.hdr.type, PROTO_SSH_INIT_ANS);
	assert_int_equal(proto_ssh_init_ans_decode(&m, &out), 0);
	assert_int_equal(out.status, PROTO_OK);
	assert_string_equal(out.message, "");
	assert_string_equal(out.public_key, "ssh-ed25519 AAAA dispatch");
	proto_ssh_init_ans_free(&out);
	m.hdr.type = PROTO_CLOUD_INIT_ANS;
	assert_int_equal(proto_ssh_init_ans_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);
}

/* ---- mutation sweep ---- */

/* Decode a (possibly mutated) whole message; the header may reject it first. */
static int
check_whole(const struct proto_case *c, const uint8_t *buf, size_t len)
{
	struct proto_msg m;
	int rc;

	if (proto_case_view(buf, len, &m) != 0)
		return -EBADMSG;
	rc = c->check(&m);
	assert_int_not_equal(rc, -EILSEQ); /* accepted but not canonical */
	assert_true(rc == 0 || rc == -EBADMSG);
	return rc;
}

/* The payload cut to n bytes (header len adjusted): a decoder must notice. */
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
	for (size_t n = 0; n < plen; n++) {
		assert_int_not_equal(check_payload(c, &m, m.payload, n), 0);
		assert_int_not_equal(check_whole(c, w->data, PROTO_HDR_LEN + n), 0);
	}
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
	for (size_t i = 0; i < proto_ncases; i++) {
		const struct proto_case *c = &proto_cases[i];

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
		cmocka_unit_test(test_hello),	   cmocka_unit_test(test_hello_bounds),
		cmocka_unit_test(test_ping),	   cmocka_unit_test(test_status),
		cmocka_unit_test(test_cloud_init), cmocka_unit_test(test_cloud_init_bounds),
		cmocka_unit_test(test_ssh_init),   cmocka_unit_test(test_ssh_init_ans),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
