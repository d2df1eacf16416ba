/* test_proto_codec.c - header parsing, the wbuf builder and the rbuf getters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void
put_hdr(uint8_t *b, uint16_t type, uint16_t flags, uint32_t len, uint32_t reqid, uint32_t to)
{
	b[0] = type >> 8;
	b[1] = (uint8_t)type;
	b[2] = flags >> 8;
	b[3] = (uint8_t)flags;
	b[4] = len >> 24;
	b[5] = (uint8_t)(len >> 16);
	b[6] = (uint8_t)(len >> 8);
	b[7] = (uint8_t)len;
	b[8] = reqid >> 24;
	b[9] = (uint8_t)(reqid >> 16);
	b[10] = (uint8_t)(reqid >> 8);
	b[11] = (uint8_t)reqid;
	b[12] = to >> 24;
	b[13] = (uint8_t)(to >> 16);
	b[14] = (uint8_t)(to >> 8);
	b[15] = (uint8_t)to;
}

static void
test_hdr_ok(void **state)
{
	uint8_t b[20] = { 0 };
	struct proto_hdr h;

	(void)state;
	put_hdr(b, PROTO_PING_REQ, PROTO_F_MORE, 20, 0x01020304, 0x0a0b0c0d);
	assert_int_equal(proto_hdr_parse(b, 20, &h), 0);
	assert_int_equal(h.type, PROTO_PING_REQ);
	assert_int_equal(h.flags, PROTO_F_MORE);
	assert_int_equal(h.len, 20);
	assert_int_equal(h.reqid, 0x01020304);
	assert_int_equal(h.timeout_ms, 0x0a0b0c0d);
}

static void
test_hdr_bad(void **state)
{
	static uint8_t b[PROTO_MAX_MSG + 8];
	struct proto_hdr h;

	(void)state;
	put_hdr(b, PROTO_PING_REQ, 0, 16, 1, 0);
	assert_int_equal(proto_hdr_parse(b, 16, &h), 0);
	assert_int_equal(proto_hdr_parse(b, 15, &h), -EBADMSG); /* short */
	assert_int_equal(proto_hdr_parse(b, 0, &h), -EBADMSG);
	assert_int_equal(proto_hdr_parse(NULL, 16, &h), -EBADMSG);
	assert_int_equal(proto_hdr_parse(b, 17, &h), -EBADMSG); /* long: len says 16 */
	put_hdr(b, PROTO_PING_REQ, 0, 15, 1, 0);		/* len below header */
	assert_int_equal(proto_hdr_parse(b, 15, &h), -EBADMSG);
	assert_int_equal(proto_hdr_parse(b, 16, &h), -EBADMSG);
	put_hdr(b, PROTO_PING_REQ, 0, 24, 1, 0); /* len past data */
	assert_int_equal(proto_hdr_parse(b, 20, &h), -EBADMSG);
	put_hdr(b, PROTO_PING_REQ, 0, PROTO_MAX_MSG + 1, 1, 0); /* too big */
	assert_int_equal(proto_hdr_parse(b, PROTO_MAX_MSG + 1, &h), -EBADMSG);
	put_hdr(b, PROTO_PING_REQ, 0, PROTO_MAX_MSG, 1, 0); /* the largest is fine */
	assert_int_equal(proto_hdr_parse(b, PROTO_MAX_MSG, &h), 0);
	for (unsigned bit = 2; bit < 16; bit++) { /* unknown flags */
		put_hdr(b, PROTO_PING_REQ, (uint16_t)(1u << bit), 16, 1, 0);
		assert_int_equal(proto_hdr_parse(b, 16, &h), -EBADMSG);
	}
	put_hdr(b, PROTO_PING_REQ, PROTO_F_FD | PROTO_F_MORE, 16, 1, 0);
	assert_int_equal(proto_hdr_parse(b, 16, &h), 0);
}

static void
test_types(void **state)
{
	(void)state;
	assert_string_equal(proto_type_str(PROTO_CLOUD_INIT_REQ), "CLOUD_INIT_REQ");
	assert_string_equal(proto_type_str(999), "unknown(999)");
	assert_true(proto_type_known(PROTO_SSH_INIT_ANS));
	assert_false(proto_type_known(6));
	assert_int_equal(proto_type_check(PROTO_HELLO_REQ, PROTO_P2C, PROTO_ROLE_CLOUDD), 0);
	assert_int_equal(proto_type_check(PROTO_HELLO_REQ, PROTO_C2P, PROTO_ROLE_CLOUDD), -EPROTO);
	assert_int_equal(proto_type_check(PROTO_SSH_INIT_REQ, PROTO_P2C, PROTO_ROLE_CLOUDD),
			 -EPROTO);
	assert_int_equal(proto_type_check(PROTO_SSH_INIT_REQ, PROTO_P2C, PROTO_ROLE_SSHD_POOL), 0);
}

static void
test_wbuf_layout(void **state)
{
	struct proto_wbuf w;
	static const uint8_t want[] = {
		0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10 + 38, 0,	   0,	 0,
		5,    0,    0,	  0,	9,    0xab, 0x12, 0x34,	     0xde, 0xad, 0xbe,
		0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,	     0x08, 0xff, 0xff,
		0xff, 0xfe, 0x01, 0x00, 0x00, 0x00, 0x02, 'h',	     'i',  0x00, 0x00,
		0x00, 0x00, 0x3f, 0xf0, 0,    0,    0,	  0,	     0,	   0,
	};

	(void)state;
	assert_int_equal(proto_wbuf_begin(&w, PROTO_PING_REQ, 0, 5, 9), 0);
	proto_put_u8(&w, 0xab);
	proto_put_u16(&w, 0x1234);
	proto_put_u32(&w, 0xdeadbeef);
	proto_put_u64(&w, 0x0102030405060708ull);
	proto_put_i32(&w, -2);
	proto_put_bool(&w, true);
	proto_put_str(&w, "hi");
	proto_put_str(&w, NULL);
	proto_put_f64(&w, 1.0);
	assert_int_equal(proto_wbuf_end(&w), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.data, want, sizeof(want));
	proto_wbuf_set_reqid(&w, 0x11223344);
	proto_wbuf_set_timeout(&w, 0x55667788);
	proto_wbuf_set_flags(&w, PROTO_F_MORE);
	assert_int_equal(w.data[8], 0x11);
	assert_int_equal(w.data[15], 0x88);
	assert_int_equal(proto_wbuf_flags(&w), PROTO_F_MORE);
	proto_wbuf_free(&w);
	assert_null(w.data);
	proto_wbuf_free(&w); /* idempotent */
}

static void
test_wbuf_errors(void **state)
{
	struct proto_wbuf w;
	static char big[PROTO_MAX_MSG];

	(void)state;
	assert_int_equal(proto_wbuf_begin(&w, PROTO_PING_REQ, 0x80, 1, 0), -EINVAL);
	proto_put_u32(&w, 1); /* harmless after a failed begin */
	assert_int_equal(proto_wbuf_end(&w), -EINVAL);
	proto_wbuf_free(&w);

	/* Grow up to exactly PROTO_MAX_MSG, then one byte more is -EMSGSIZE, sticky. */
	assert_int_equal(proto_wbuf_begin(&w, PROTO_PING_REQ, 0, 1, 0), 0);
	w.secret = true; /* growth must copy-and-wipe rather than realloc */
	proto_put_bytes(&w, big, PROTO_MAX_STR);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, PROTO_MAX_MSG);
	proto_put_u8(&w, 1);
	assert_int_equal(w.err, -EMSGSIZE);
	proto_put_u8(&w, 1);
	assert_int_equal(proto_wbuf_end(&w), -EMSGSIZE);
	proto_wbuf_free(&w);

	assert_int_equal(proto_wbuf_begin(&w, PROTO_PING_REQ, 0, 1, 0), 0);
	proto_put_bytes(&w, big, PROTO_MAX_STR + 1);
	assert_int_equal(w.err, -EMSGSIZE);
	proto_wbuf_free(&w);

	assert_int_equal(proto_wbuf_begin(&w, PROTO_PING_REQ, 0, 1, 0), 0);
	proto_put_strn(&w, "a\0b", 3); /* the peer would refuse it */
	assert_int_equal(proto_wbuf_end(&w), -EINVAL);
	proto_wbuf_free(&w);

	assert_int_equal(proto_wbuf_begin(&w, PROTO_PING_REQ, 0, 1, 0), 0);
	proto_put_f64(&w, NAN);
	assert_int_equal(proto_wbuf_end(&w), -EINVAL);
	proto_wbuf_free(&w);
}

static struct proto_msg
msg_of(const uint8_t *p, size_t n)
{
	struct proto_msg m = { .payload = p, .payload_len = n, .fd = -1 };

	return m;
}

static void
test_rbuf_ints(void **state)
{
	static const uint8_t p[] = { 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1,    2,
				     3,	   4,	 5,    6,    7,	   8,	 0xff, 0xff, 0xff,
				     0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd,
				     0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 0x01 };
	struct proto_msg m = msg_of(p, sizeof(p));
	struct proto_rbuf r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int32_t i32;
	int64_t i64;
	double d;
	bool b;

	(void)state;
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(proto_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(proto_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(proto_get_u64(&r, &u64), 0);
	assert_true(u64 == 0x0102030405060708ull);
	assert_int_equal(proto_get_i32(&r, &i32), 0);
	assert_int_equal(i32, -2);
	assert_int_equal(proto_get_i64(&r, &i64), 0);
	assert_true(i64 == -3);
	assert_int_equal(proto_get_f64(&r, &d), 0);
	assert_true(d > 3.14159 && d < 3.14160);
	assert_int_equal(proto_get_bool(&r, &b), 0);
	assert_true(b);
	assert_int_equal(proto_end(&r), 0);
	/* Past the end: sticky. */
	assert_int_equal(proto_get_u8(&r, &u8), -EBADMSG);
	assert_int_equal(u8, 0);
	assert_int_equal(proto_end(&r), -EBADMSG);
}

static void
test_rbuf_bounds(void **state)
{
	static const uint8_t p[] = { 1, 2, 3 };
	struct proto_msg m = msg_of(p, sizeof(p));
	struct proto_rbuf r;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;

	(void)state;
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_u32(&r, &u32), -EBADMSG);
	/* Sticky: even a read that would fit fails now. */
	assert_int_equal(proto_get_u8(&r, &u8), -EBADMSG);
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_u16(&r, &u16), 0);
	assert_int_equal(proto_end(&r), -EBADMSG); /* one byte left over */
}

static void
test_rbuf_bool_f64(void **state)
{
	static const uint8_t two[] = { 2 };
	static const uint8_t nan[] = { 0x7f, 0xf8, 0, 0, 0, 0, 0, 0 };
	static const uint8_t inf[] = { 0xff, 0xf0, 0, 0, 0, 0, 0, 0 };
	struct proto_msg m;
	struct proto_rbuf r;
	bool b;
	double d;

	(void)state;
	m = msg_of(two, 1);
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_bool(&r, &b), -EBADMSG);
	m = msg_of(nan, 8);
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_f64(&r, &d), -EBADMSG);
	m = msg_of(inf, 8);
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_f64(&r, &d), -EBADMSG);
	assert_int_equal(proto_end(&r), -EBADMSG);
}

static void
test_rbuf_strings(void **state)
{
	static const uint8_t ok[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	static const uint8_t nul[] = { 0, 0, 0, 3, 'a', 0, 'c' };
	static const uint8_t past[] = { 0, 0, 0, 4, 'a', 'b', 'c' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t empty[] = { 0, 0, 0, 0 };
	struct proto_msg m;
	struct proto_rbuf r;
	uint8_t *bytes;
	size_t n;
	char *s;

	(void)state;
	m = msg_of(ok, sizeof(ok));
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_str(&r, &s, 3), 0);
	assert_string_equal(s, "abc");
	free(s);
	assert_int_equal(proto_end(&r), 0);
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_str(&r, &s, 2), -EBADMSG); /* longer than max */
	assert_null(s);
	m = msg_of(nul, sizeof(nul));
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_str(&r, &s, 100), -EBADMSG);
	assert_null(s);
	proto_rbuf_init(&r, &m); /* bytes may hold NULs */
	assert_int_equal(proto_get_bytes(&r, &bytes, &n, 100), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(bytes, "a\0c", 3);
	free(bytes);
	m = msg_of(past, sizeof(past));
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_str(&r, &s, 100), -EBADMSG);
	m = msg_of(huge, sizeof(huge));
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_bytes(&r, &bytes, &n, SIZE_MAX), -EBADMSG);
	assert_null(bytes);
	m = msg_of(empty, sizeof(empty));
	proto_rbuf_init(&r, &m);
	assert_int_equal(proto_get_str(&r, &s, 0), 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(proto_end(&r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_ok),	     cmocka_unit_test(test_hdr_bad),
		cmocka_unit_test(test_types),	     cmocka_unit_test(test_wbuf_layout),
		cmocka_unit_test(test_wbuf_errors),  cmocka_unit_test(test_rbuf_ints),
		cmocka_unit_test(test_rbuf_bounds),  cmocka_unit_test(test_rbuf_bool_f64),
		cmocka_unit_test(test_rbuf_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
