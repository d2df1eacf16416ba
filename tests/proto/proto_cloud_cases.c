/* proto_cloud_cases.c - samples and canonical checks for every cloud-verb decoder. */
#include "proto_cloud_cases.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int
pcc_same(struct proto_wbuf *w, int enc_rc, const struct proto_msg *m)
{
	int rc = 0;

	if (enc_rc != 0)
		return -EILSEQ;
	if (w->len - PROTO_HDR_LEN != m->payload_len ||
	    memcmp(w->data + PROTO_HDR_LEN, m->payload, m->payload_len) != 0)
		rc = -EILSEQ;
	proto_wbuf_free(w);
	return rc;
}

static char *tag_keys[] = { "arvados-class", "InstanceType", "" };
static char *tag_values[] = { "dynamic-compute", "m5.large", "" };

void
proto_cloud_sample_err(struct proto_cloud_err *e, int cls)
{
	memset(e, 0, sizeof(*e));
	e->cls = (uint8_t)cls;
	e->status = cls == PROTO_CLOUD_OK ? PROTO_OK : PROTO_E_FAILED;
	if (cls == PROTO_CLOUD_OK)
		return;
	e->earliest_retry_ms = cls == PROTO_CLOUD_RATE_LIMIT ? 1700000000123LL : 0;
	e->type_specific = cls == PROTO_CLOUD_CAPACITY;
	e->quota_group_specific = false;
	e->spot = cls == PROTO_CLOUD_CAPACITY;
	e->http_status = 400;
	e->instance_type = "m5.large";
	e->quota_group = "standard-spot";
	e->code = "InsufficientInstanceCapacity";
	e->text = "RunInstances: api error InsufficientInstanceCapacity: no capacity";
}

void
proto_cloud_sample_inst(struct proto_cloud_inst *i, int k)
{
	memset(i, 0, sizeof(*i));
	if (k == 0)
		return; /* the empty instance of a failed create */
	i->id = k == 1 ? "i-0123456789abcdef0" : "loopback";
	i->provider_type = "m5.large";
	i->address = k == 1 ? "10.1.2.3" : "127.0.0.1:40022";
	i->private_address = "10.1.2.3";
	i->subnet_id = "subnet-1";
	i->state = "running";
	i->az = "us-east-1a";
	i->remote_user = "root";
	i->host_key = k == 2 ? "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey" : "";
	i->spot = k == 1;
	i->tags = (struct proto_cloud_tags){ tag_keys, tag_values, k == 1 ? 3 : 1 };
}

static const struct proto_cloud_itype sample_itype = { "m5large", "m5.large", 0.096, true,
						       50LL << 30 };

/* ---- create ---- */

static int
create_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_create c = {
		.itype = sample_itype,
		.image = "ami-123",
		.init_command = "echo hi\n",
		.public_key = "ssh-ed25519 AAAAC3Nz dispatch",
		.key = i == 0 ? "ctr-1" : "",
		.tags = { tag_keys, tag_values, i == 0 ? 2 : 0 },
	};

	return proto_cloud_create_encode(w, 21, 60000, &c);
}

static int
create_check(const struct proto_msg *m)
{
	struct proto_cloud_create c;
	struct proto_wbuf w;
	int rc = proto_cloud_create_decode(m, &c);

	if (rc != 0)
		return rc;
	rc = proto_cloud_create_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &c);
	proto_cloud_create_free(&c);
	return pcc_same(&w, rc, m);
}

static int
create_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_create_ans a;

	proto_cloud_sample_err(&a.err, i == 0 ? PROTO_CLOUD_OK : i);
	proto_cloud_sample_inst(&a.inst, i == 0 ? 2 : 0);
	return proto_cloud_create_ans_encode(w, 21, &a);
}

static int
create_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_create_ans a;
	struct proto_wbuf w;
	int rc = proto_cloud_create_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_cloud_create_ans_encode(&w, m->hdr.reqid, &a);
	proto_cloud_create_ans_free(&a);
	return pcc_same(&w, rc, m);
}

/* ---- list ---- */

static int
list_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_list l = { .filter = { tag_keys, tag_values, (uint32_t)i } };

	return proto_cloud_list_encode(w, 22, 0, &l);
}

static int
list_check(const struct proto_msg *m)
{
	struct proto_cloud_list l;
	struct proto_wbuf w;
	int rc = proto_cloud_list_decode(m, &l);

	if (rc != 0)
		return rc;
	rc = proto_cloud_list_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &l);
	proto_cloud_list_free(&l);
	return pcc_same(&w, rc, m);
}

static int
list_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_inst insts[3];
	struct proto_cloud_list_ans a = { .insts = insts, .n = i == 2 ? 0 : 3 };

	proto_cloud_sample_err(&a.err, i == 2 ? PROTO_CLOUD_RATE_LIMIT : PROTO_CLOUD_OK);
	for (int k = 0; k < 3; k++)
		proto_cloud_sample_inst(&insts[k], k);
	return proto_cloud_list_ans_encode(w, 22, i == 0 ? PROTO_F_MORE : 0, &a);
}

static int
list_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_list_ans a;
	struct proto_wbuf w;
	int rc = proto_cloud_list_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_cloud_list_ans_encode(&w, m->hdr.reqid, m->hdr.flags, &a);
	proto_cloud_list_ans_free(&a);
	return pcc_same(&w, rc, m);
}

/* ---- destroy ---- */

static int
destroy_sample(struct proto_wbuf *w, int i)
{
	char *ids[] = { "i-1", "i-2", "" };
	struct proto_cloud_destroy d = { ids, i == 0 ? 1 : 3 };

	return proto_cloud_destroy_encode(w, 23, 1000, &d);
}

static int
destroy_check(const struct proto_msg *m)
{
	struct proto_cloud_destroy d;
	struct proto_wbuf w;
	int rc = proto_cloud_destroy_decode(m, &d);

	if (rc != 0)
		return rc;
	rc = proto_cloud_destroy_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &d);
	proto_cloud_destroy_free(&d);
	return pcc_same(&w, rc, m);
}

static int
destroy_ans_sample(struct proto_wbuf *w, int i)
{
	char *ids[] = { "i-1", "i-2" };
	struct proto_cloud_err errs[2];
	struct proto_cloud_destroy_ans a = { .ids = ids, .errs = errs, .n = i == 1 ? 0 : 2 };

	proto_cloud_sample_err(&a.err, i == 1 ? PROTO_CLOUD_OTHER : PROTO_CLOUD_OK);
	proto_cloud_sample_err(&errs[0], PROTO_CLOUD_OK);
	proto_cloud_sample_err(&errs[1], PROTO_CLOUD_OTHER);
	return proto_cloud_destroy_ans_encode(w, 23, 0, &a);
}

static int
destroy_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_destroy_ans a;
	struct proto_wbuf w;
	int rc = proto_cloud_destroy_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_cloud_destroy_ans_encode(&w, m->hdr.reqid, m->hdr.flags, &a);
	proto_cloud_destroy_ans_free(&a);
	return pcc_same(&w, rc, m);
}

/* ---- tags ---- */

static int
tags_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_tags_req t = { "i-1", { tag_keys, tag_values, (uint32_t)i + 1 } };

	return proto_cloud_tags_encode(w, 24, 10, &t);
}

static int
tags_check(const struct proto_msg *m)
{
	struct proto_cloud_tags_req t;
	struct proto_wbuf w;
	int rc = proto_cloud_tags_decode(m, &t);

	if (rc != 0)
		return rc;
	rc = proto_cloud_tags_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &t);
	proto_cloud_tags_free(&t);
	return pcc_same(&w, rc, m);
}

static int
err_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_err e;

	proto_cloud_sample_err(&e, i);
	return proto_cloud_err_ans_encode(w, PROTO_CLOUD_TAGS_ANS, 24, &e);
}

static int
err_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_err e;
	struct proto_wbuf w;
	int rc = proto_cloud_err_ans_decode(m, &e);

	if (rc != 0)
		return rc;
	rc = proto_cloud_err_ans_encode(&w, m->hdr.type, m->hdr.reqid, &e);
	proto_cloud_err_free(&e);
	return pcc_same(&w, rc, m);
}

/* ---- prices ---- */

static int
prices_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_prices p = { sample_itype, "i-1", i ? "" : "us-east-1a", i == 0 };

	return proto_cloud_prices_encode(w, 25, 10, &p);
}

static int
prices_check(const struct proto_msg *m)
{
	struct proto_cloud_prices p;
	struct proto_wbuf w;
	int rc = proto_cloud_prices_decode(m, &p);

	if (rc != 0)
		return rc;
	rc = proto_cloud_prices_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &p);
	proto_cloud_prices_free(&p);
	return pcc_same(&w, rc, m);
}

static int
prices_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_price v[] = { { 1700000000, 0.0123 }, { 1690000000, 0.5 } };
	struct proto_cloud_prices_ans a = { .v = v, .n = i == 0 ? 2 : 0 };

	proto_cloud_sample_err(&a.err, i == 0 ? PROTO_CLOUD_OK : PROTO_CLOUD_OTHER);
	return proto_cloud_prices_ans_encode(w, 25, &a);
}

static int
prices_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_prices_ans a;
	struct proto_wbuf w;
	int rc = proto_cloud_prices_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_cloud_prices_ans_encode(&w, m->hdr.reqid, &a);
	proto_cloud_prices_ans_free(&a);
	return pcc_same(&w, rc, m);
}

/* ---- quota group ---- */

static int
qgroup_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_qgroup q = { sample_itype };

	q.itype.preemptible = i == 1;
	return proto_cloud_qgroup_encode(w, 26, 10, &q);
}

static int
qgroup_check(const struct proto_msg *m)
{
	struct proto_cloud_qgroup q;
	struct proto_wbuf w;
	int rc = proto_cloud_qgroup_decode(m, &q);

	if (rc != 0)
		return rc;
	rc = proto_cloud_qgroup_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &q);
	proto_cloud_qgroup_free(&q);
	return pcc_same(&w, rc, m);
}

static int
qgroup_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_qgroup_ans a = { .group = i == 0 ? "standard" : "" };

	proto_cloud_sample_err(&a.err, i == 0 ? PROTO_CLOUD_OK : PROTO_CLOUD_QUOTA);
	return proto_cloud_qgroup_ans_encode(w, 26, &a);
}

static int
qgroup_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_qgroup_ans a;
	struct proto_wbuf w;
	int rc = proto_cloud_qgroup_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_cloud_qgroup_ans_encode(&w, m->hdr.reqid, &a);
	proto_cloud_qgroup_ans_free(&a);
	return pcc_same(&w, rc, m);
}

/* ---- driver counters ---- */

static int
stats_sample(struct proto_wbuf *w, int i)
{
	return proto_cloud_stats_encode(w, 27, i == 0 ? 10 : 0);
}

static int
stats_check(const struct proto_msg *m)
{
	struct proto_wbuf w;
	int rc = proto_cloud_stats_decode(m);

	if (rc != 0)
		return rc;
	rc = proto_cloud_stats_encode(&w, m->hdr.reqid, m->hdr.timeout_ms);
	return pcc_same(&w, rc, m);
}

static int
stats_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_cloud_subnet_stats v[] = {
		{ "subnet-0123456789abcdef0", 3, 1, 2 },
		{ "", 0, 0, 0 },
	};
	struct proto_cloud_stats_ans a = { .v = v, .n = i == 0 ? 2 : 0 };

	proto_cloud_sample_err(&a.err, i == 0 ? PROTO_CLOUD_OK : PROTO_CLOUD_OTHER);
	return proto_cloud_stats_ans_encode(w, 27, &a);
}

static int
stats_ans_check(const struct proto_msg *m)
{
	struct proto_cloud_stats_ans a;
	struct proto_wbuf w;
	int rc = proto_cloud_stats_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_cloud_stats_ans_encode(&w, m->hdr.reqid, &a);
	proto_cloud_stats_ans_free(&a);
	return pcc_same(&w, rc, m);
}

const struct proto_case proto_cloud_cases[] = {
	{ "cloud_create", create_sample, 2, create_check },
	{ "cloud_create_ans", create_ans_sample, 5, create_ans_check },
	{ "cloud_list", list_sample, 3, list_check },
	{ "cloud_list_ans", list_ans_sample, 3, list_ans_check },
	{ "cloud_destroy", destroy_sample, 2, destroy_check },
	{ "cloud_destroy_ans", destroy_ans_sample, 2, destroy_ans_check },
	{ "cloud_tags", tags_sample, 2, tags_check },
	{ "cloud_err_ans", err_ans_sample, 5, err_ans_check },
	{ "cloud_prices", prices_sample, 2, prices_check },
	{ "cloud_prices_ans", prices_ans_sample, 2, prices_ans_check },
	{ "cloud_qgroup", qgroup_sample, 2, qgroup_check },
	{ "cloud_qgroup_ans", qgroup_ans_sample, 2, qgroup_ans_check },
	{ "cloud_stats", stats_sample, 2, stats_check },
	{ "cloud_stats_ans", stats_ans_sample, 2, stats_ans_check },
};
const size_t proto_cloud_ncases = sizeof(proto_cloud_cases) / sizeof(proto_cloud_cases[0]);

const struct proto_case *
proto_cloud_case_find(const char *name)
{
	for (size_t i = 0; i < proto_cloud_ncases; i++)
		if (strcmp(proto_cloud_cases[i].name, name) == 0)
			return &proto_cloud_cases[i];
	return NULL;
}
