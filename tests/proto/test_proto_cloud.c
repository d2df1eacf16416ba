/*
 * test_proto_cloud.c - the cloud verbs (proto_cloud.h): a round trip of every field of
 * every message, the bounds and invariants both ends enforce, and the mutation sweep of
 * test_proto_msgs.c (every bit flip, truncation and 1..16-byte extension of every sample).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto_cloud_cases.h"
#include "util.h"

static struct proto_msg
view(const struct proto_wbuf *w)
{
	struct proto_msg m;

	assert_int_equal(proto_case_view(w->data, w->len, &m), 0);
	return m;
}

static void
assert_err_equal(const struct proto_cloud_err *a, const struct proto_cloud_err *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->cls, b->cls);
	assert_int_equal(a->earliest_retry_ms, b->earliest_retry_ms);
	assert_int_equal(a->type_specific, b->type_specific);
	assert_int_equal(a->quota_group_specific, b->quota_group_specific);
	assert_int_equal(a->spot, b->spot);
	assert_int_equal(a->http_status, b->http_status);
	assert_string_equal(a->instance_type, b->instance_type ? b->instance_type : "");
	assert_string_equal(a->quota_group, b->quota_group ? b->quota_group : "");
	assert_string_equal(a->code, b->code ? b->code : "");
	assert_string_equal(a->text, b->text ? b->text : "");
}

static void
assert_inst_equal(const struct proto_cloud_inst *a, const struct proto_cloud_inst *b)
{
#define S_(f) assert_string_equal(a->f, b->f ? b->f : "")
	S_(id);
	S_(provider_type);
	S_(address);
	S_(private_address);
	S_(subnet_id);
	S_(state);
	S_(az);
	S_(remote_user);
	S_(host_key);
#undef S_
	assert_int_equal(a->spot, b->spot);
	assert_int_equal(a->tags.n, b->tags.n);
	for (uint32_t i = 0; i < a->tags.n; i++) {
		assert_string_equal(a->tags.keys[i], b->tags.keys[i]);
		assert_string_equal(a->tags.values[i], b->tags.values[i]);
	}
}

static void
test_create(void **state)
{
	char *k[] = { "a", "b" }, *v[] = { "1", "" };
	struct proto_cloud_create in = {
		.itype = { "small", "t3.small", 0.25, true, 123456789012LL },
		.image = "ami-1", .init_command = "#!/bin/sh\necho ok\n",
		.public_key = "ssh-ed25519 AAAA x", .key = "ctr-7", .tags = { k, v, 2 },
	}, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_cloud_create_encode(&w, 5, 7000, &in), 0);
	m = view(&w);
	assert_int_equal(m.hdr.type, PROTO_CLOUD_CREATE_REQ);
	assert_int_equal(m.hdr.timeout_ms, 7000);
	assert_int_equal(proto_cloud_create_decode(&m, &out), 0);
	assert_string_equal(out.itype.name, "small");
	assert_string_equal(out.itype.provider_type, "t3.small");
	assert_true(out.itype.price == 0.25);
	assert_true(out.itype.preemptible);
	assert_int_equal(out.itype.added_scratch, 123456789012LL);
	assert_string_equal(out.image, "ami-1");
	assert_string_equal(out.init_command, "#!/bin/sh\necho ok\n");
	assert_string_equal(out.public_key, "ssh-ed25519 AAAA x");
	assert_string_equal(out.key, "ctr-7");
	assert_int_equal(out.tags.n, 2);
	assert_string_equal(out.tags.keys[1], "b");
	assert_string_equal(out.tags.values[1], "");
	proto_cloud_create_free(&out);
	assert_null(out.image);
	m.hdr.type = PROTO_CLOUD_LIST_REQ;
	assert_int_equal(proto_cloud_create_decode(&m, &out), -EBADMSG);
	proto_wbuf_free(&w);
}

static void
test_create_ans_every_class(void **state)
{
	(void)state;
	for (int cls = PROTO_CLOUD_OK; cls <= PROTO_CLOUD_CLASS_LAST; cls++) {
		struct proto_cloud_create_ans in, out;
		struct proto_wbuf w;
		struct proto_msg m;

		proto_cloud_sample_err(&in.err, cls);
		proto_cloud_sample_inst(&in.inst, cls == PROTO_CLOUD_OK ? 2 : 0);
		assert_int_equal(proto_cloud_create_ans_encode(&w, 9, &in), 0);
		m = view(&w);
		assert_int_equal(proto_cloud_create_ans_decode(&m, &out), 0);
		assert_err_equal(&out.err, &in.err);
		assert_inst_equal(&out.inst, &in.inst);
		proto_cloud_create_ans_free(&out);
		proto_wbuf_free(&w);
	}
}

static void
test_err_invariants(void **state)
{
	struct proto_cloud_err e;
	struct proto_wbuf w;

	(void)state;
	/* A class without a failure, a failure without a class, an unknown class. */
	proto_cloud_sample_err(&e, PROTO_CLOUD_QUOTA);
	e.status = PROTO_OK;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), -EINVAL);
	proto_cloud_sample_err(&e, PROTO_CLOUD_OK);
	e.status = PROTO_E_FAILED;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), -EINVAL);
	proto_cloud_sample_err(&e, PROTO_CLOUD_OTHER);
	e.cls = PROTO_CLOUD_CLASS_LAST + 1;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), -EINVAL);
	/* A retryable failure (cloudd down) has a class too: OTHER. */
	proto_cloud_sample_err(&e, PROTO_CLOUD_OTHER);
	e.status = PROTO_E_RETRY;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), 0);
	proto_wbuf_free(&w);
	/* Only TAGS_ANS is a bare error block. */
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_LIST_ANS, 1, &e), -EINVAL);
	assert_null(w.data);
}

static void
test_bounds(void **state)
{
	char big[PROTO_MAX_ERR_TEXT + 2];
	char *ids[PROTO_MAX_DESTROY_IDS + 1];
	struct proto_cloud_err e;
	struct proto_cloud_destroy d = { ids, PROTO_MAX_DESTROY_IDS + 1 };
	struct proto_wbuf w;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	proto_cloud_sample_err(&e, PROTO_CLOUD_OTHER);
	e.text = big;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), -EMSGSIZE);
	big[PROTO_MAX_ERR_TEXT] = 0;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), 0);
	proto_wbuf_free(&w);
	for (size_t i = 0; i <= PROTO_MAX_DESTROY_IDS; i++)
		ids[i] = "i-0123456789abcdef0";
	assert_int_equal(proto_cloud_destroy_encode(&w, 1, 0, &d), -EMSGSIZE);
	d.n = PROTO_MAX_DESTROY_IDS;
	assert_int_equal(proto_cloud_destroy_encode(&w, 1, 0, &d), 0);
	proto_wbuf_free(&w);
	d.n = 0; /* destroying nothing is refused */
	assert_int_equal(proto_cloud_destroy_encode(&w, 1, 0, &d), -EINVAL);
}

/* Packing a list part the way cloudd does: inst_size tells what fits. */
static void
test_list_ans_size(void **state)
{
	struct proto_cloud_inst insts[3];
	struct proto_cloud_list_ans a = { .insts = insts, .n = 3 }, out;
	struct proto_wbuf w;
	struct proto_msg m;
	size_t expect = PROTO_HDR_LEN + 4;

	(void)state;
	proto_cloud_sample_err(&a.err, PROTO_CLOUD_OK);
	expect += proto_cloud_err_size(&a.err);
	for (int k = 0; k < 3; k++) {
		proto_cloud_sample_inst(&insts[k], k);
		expect += proto_cloud_inst_size(&insts[k]);
	}
	assert_int_equal(proto_cloud_list_ans_encode(&w, 3, PROTO_F_MORE, &a), 0);
	assert_int_equal(w.len, expect);
	m = view(&w);
	assert_int_equal(m.hdr.flags, PROTO_F_MORE);
	assert_int_equal(proto_cloud_list_ans_decode(&m, &out), 0);
	assert_int_equal(out.n, 3);
	for (int k = 0; k < 3; k++)
		assert_inst_equal(&out.insts[k], &insts[k]);
	proto_cloud_list_ans_free(&out);
	proto_wbuf_free(&w);
}

static void
test_destroy_ans(void **state)
{
	char *ids[] = { "i-1", "i-2" };
	struct proto_cloud_err errs[2];
	struct proto_cloud_destroy_ans in = { .ids = ids, .errs = errs, .n = 2 }, out;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	proto_cloud_sample_err(&in.err, PROTO_CLOUD_OK);
	proto_cloud_sample_err(&errs[0], PROTO_CLOUD_OK);
	proto_cloud_sample_err(&errs[1], PROTO_CLOUD_RATE_LIMIT);
	assert_int_equal(proto_cloud_destroy_ans_encode(&w, 4, 0, &in), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_destroy_ans_decode(&m, &out), 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.ids[1], "i-2");
	assert_err_equal(&out.errs[0], &errs[0]);
	assert_err_equal(&out.errs[1], &errs[1]);
	proto_cloud_destroy_ans_free(&out);
	proto_wbuf_free(&w);
}

static void
test_prices_qgroup_tags(void **state)
{
	struct proto_cloud_price v[] = { { 100, 0.5 }, { 50, 0.25 } };
	struct proto_cloud_prices pin = { { "a", "b", 1.5, false, 0 }, "i-1", "az-1", true }, pout;
	struct proto_cloud_prices_ans ain = { .v = v, .n = 2 }, aout;
	struct proto_cloud_qgroup_ans qin = { .group = "standard-spot" }, qout;
	char *k[] = { "Name" }, *vv[] = { "n" };
	struct proto_cloud_tags_req tin = { "i-9", { k, vv, 1 } }, tout;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_cloud_prices_encode(&w, 1, 0, &pin), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_prices_decode(&m, &pout), 0);
	assert_string_equal(pout.id, "i-1");
	assert_string_equal(pout.az, "az-1");
	assert_true(pout.spot);
	assert_true(pout.itype.price == 1.5);
	proto_cloud_prices_free(&pout);
	proto_wbuf_free(&w);

	proto_cloud_sample_err(&ain.err, PROTO_CLOUD_OK);
	assert_int_equal(proto_cloud_prices_ans_encode(&w, 1, &ain), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_prices_ans_decode(&m, &aout), 0);
	assert_int_equal(aout.n, 2);
	assert_int_equal(aout.v[1].start_time, 50);
	assert_true(aout.v[1].price == 0.25);
	proto_cloud_prices_ans_free(&aout);
	proto_wbuf_free(&w);

	proto_cloud_sample_err(&qin.err, PROTO_CLOUD_OK);
	assert_int_equal(proto_cloud_qgroup_ans_encode(&w, 1, &qin), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_qgroup_ans_decode(&m, &qout), 0);
	assert_string_equal(qout.group, "standard-spot");
	proto_cloud_qgroup_ans_free(&qout);
	proto_wbuf_free(&w);

	assert_int_equal(proto_cloud_tags_encode(&w, 1, 0, &tin), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_tags_decode(&m, &tout), 0);
	assert_string_equal(tout.id, "i-9");
	assert_string_equal(tout.tags.values[0], "n");
	proto_cloud_tags_free(&tout);
	proto_wbuf_free(&w);
}

/* An error block written field by field, so that a decoder sees values no encoder sends. */
static void
put_raw_err(struct proto_wbuf *w, int32_t status, uint8_t cls, int64_t retry_ms)
{
	proto_put_i32(w, status);
	proto_put_u8(w, cls);
	proto_put_i64(w, retry_ms);
	proto_put_bool(w, false);
	proto_put_bool(w, false);
	proto_put_bool(w, false);
	proto_put_i32(w, 0);
	for (int i = 0; i < 4; i++)
		proto_put_str(w, "");
}

/* Times past 2262-04-11 would overflow the parent's int64_t nanoseconds (defect 7 of issue
 * 12): both ends refuse them; the parent's conversion saturates as a second guard. */
static void
test_times_in_range(void **state)
{
	struct proto_cloud_price v[] = { { PROTO_MAX_TIME_S, 0.5 } };
	struct proto_cloud_prices_ans pa = { .v = v, .n = 1 }, pout;
	struct proto_cloud_err e, eout;
	struct proto_wbuf w;
	struct proto_msg m;

	(void)state;
	proto_cloud_sample_err(&e, PROTO_CLOUD_RATE_LIMIT);
	e.earliest_retry_ms = PROTO_MAX_TIME_MS;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), 0);
	proto_wbuf_free(&w);
	e.earliest_retry_ms = PROTO_MAX_TIME_MS + 1;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), -EINVAL);
	e.earliest_retry_ms = -1;
	assert_int_equal(proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, 1, &e), -EINVAL);

	/* what a hostile cloudd could send: INT64_MAX ms, and a year-2263 spot price */
	assert_int_equal(proto_wbuf_begin(&w, PROTO_CLOUD_TAGS_ANS, 0, 1, 0), 0);
	put_raw_err(&w, PROTO_E_FAILED, PROTO_CLOUD_RATE_LIMIT, INT64_MAX);
	assert_int_equal(proto_wbuf_end(&w), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_err_ans_decode(&m, &eout), -EBADMSG);
	proto_wbuf_free(&w);

	assert_int_equal(proto_cloud_prices_ans_encode(&w, 1, &pa), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_prices_ans_decode(&m, &pout), 0);
	assert_true(pout.v[0].start_time == PROTO_MAX_TIME_S);
	proto_cloud_prices_ans_free(&pout);
	proto_wbuf_free(&w);
	v[0].start_time = 9300000000LL; /* 2264-09-10 */
	assert_int_equal(proto_cloud_prices_ans_encode(&w, 1, &pa), -EINVAL);
	assert_int_equal(proto_wbuf_begin(&w, PROTO_CLOUD_PRICES_ANS, 0, 1, 0), 0);
	put_raw_err(&w, PROTO_OK, PROTO_CLOUD_OK, 0);
	proto_put_u32(&w, 1);
	proto_put_i64(&w, 9300000000LL);
	proto_put_f64(&w, 0.5);
	assert_int_equal(proto_wbuf_end(&w), 0);
	m = view(&w);
	assert_int_equal(proto_cloud_prices_ans_decode(&m, &pout), -EBADMSG);
	proto_wbuf_free(&w);

	assert_true(adc_mul_sat(INT64_MAX / 1000, 1000000) == INT64_MAX);
	assert_true(adc_mul_sat(INT64_MIN / 1000, 1000000) == INT64_MIN);
	assert_true(adc_mul_sat(-9300000000LL, -1000000000) == INT64_MAX);
	assert_true(adc_mul_sat(PROTO_MAX_TIME_S, 1000000000) == PROTO_MAX_TIME_S * 1000000000);
}

/* The catalogue: cloudd's verbs travel only their way, only to/from cloudd. */
static void
test_catalogue(void **state)
{
	(void)state;
	for (uint16_t t = PROTO_CLOUD_CREATE_REQ; t <= PROTO_CLOUD_STATS_ANS; t++) {
		enum proto_dir d = (t % 2 == 0) ? PROTO_P2C : PROTO_C2P;

		assert_true(proto_type_known(t));
		assert_int_equal(proto_type_check(t, d, PROTO_ROLE_CLOUDD), 0);
		assert_int_equal(proto_type_check(t, d == PROTO_P2C ? PROTO_C2P : PROTO_P2C,
						  PROTO_ROLE_CLOUDD),
				 -EPROTO);
		assert_int_equal(proto_type_check(t, d, PROTO_ROLE_SSHD_POOL), -EPROTO);
	}
}

/* ---- mutation sweep ---- */

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
	for (size_t i = 0; i < proto_cloud_ncases; i++) {
		const struct proto_case *c = &proto_cloud_cases[i];

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
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_ans_every_class),
		cmocka_unit_test(test_err_invariants),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_list_ans_size),
		cmocka_unit_test(test_destroy_ans),
		cmocka_unit_test(test_prices_qgroup_tags),
		cmocka_unit_test(test_times_in_range),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
