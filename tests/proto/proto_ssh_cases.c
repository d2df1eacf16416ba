/* proto_ssh_cases.c - sample encodings and canonical-re-encoding checks of proto_ssh.h. */
#include "proto_ssh_cases.h"

#include <errno.h>
#include <string.h>

/* Compare a re-encoding's bytes with the decoded message's; frees w. */
static int
same(struct proto_wbuf *w, int enc_rc, const struct proto_msg *m)
{
	int rc = 0;

	if (enc_rc != 0)
		return -EILSEQ;
	if (w->len - PROTO_HDR_LEN != m->payload_len ||
	    memcmp(w->data + PROTO_HDR_LEN, m->payload, m->payload_len) != 0 ||
	    (proto_wbuf_flags(w) & PROTO_F_FD) != (m->hdr.flags & PROTO_F_FD))
		rc = -EILSEQ;
	proto_wbuf_free(w);
	return rc;
}

#define UUID "zzzzz-dz642-0123456789abcde"

static int
verify_sample(struct proto_wbuf *w, int i)
{
	struct proto_ssh_verify v = { "i-0123456789abcdef0",	     "10.1.2.3", 22, "root",
				      (uint8_t *)"s3cr3t-with\0nul", 15 };

	if (i == 1)
		v = (struct proto_ssh_verify){ "w1", "::1", 65535, "crunch", (uint8_t *)"x", 1 };
	return proto_ssh_verify_encode(w, 7, 30000, &v);
}

static int
verify_check(const struct proto_msg *m)
{
	struct proto_ssh_verify v;
	struct proto_wbuf w;
	int rc = proto_ssh_verify_decode(m, &v);

	if (rc != 0)
		return rc;
	rc = proto_ssh_verify_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &v);
	proto_ssh_verify_free(&v);
	return same(&w, rc, m);
}

static int
target_sample(struct proto_wbuf *w, int i)
{
	return proto_ssh_target_encode(w, i ? PROTO_SSH_FORGET_REQ : PROTO_SSH_BOOT_PROBE_REQ, 8,
				       1000, &(struct proto_ssh_target){ i ? "x" : "i-0abc" });
}

static int
target_check(const struct proto_msg *m)
{
	struct proto_ssh_target t;
	struct proto_wbuf w;
	int rc = proto_ssh_target_decode(m, &t);

	if (rc != 0)
		return rc;
	rc = proto_ssh_target_encode(&w, m->hdr.type, m->hdr.reqid, m->hdr.timeout_ms, &t);
	proto_ssh_target_free(&t);
	return same(&w, rc, m);
}

static int
deploy_sample(struct proto_wbuf *w, int i)
{
	(void)i;
	return proto_ssh_deploy_encode(
		w, 9, 60000,
		&(struct proto_ssh_deploy){ "i-0abc", "d41d8cd98f00b204e9800998ecf8427e" });
}

static int
deploy_check(const struct proto_msg *m)
{
	struct proto_ssh_deploy d;
	struct proto_wbuf w;
	int rc = proto_ssh_deploy_decode(m, &d);

	if (rc != 0)
		return rc;
	rc = proto_ssh_deploy_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &d);
	proto_ssh_deploy_free(&d);
	return same(&w, rc, m);
}

static int
run_probe_sample(struct proto_wbuf *w, int i)
{
	static const char prices[] = "[{\"StartTime\":\"2024-01-01T00:00:00Z\",\"Price\":0.1}]";
	struct proto_ssh_run_probe p = { "i-0abc", NULL, 0, false };

	if (i == 1) { /* with prices and the spot check */
		p.prices = (uint8_t *)prices;
		p.prices_len = sizeof(prices) - 1;
		p.spot_check = true;
	}
	return proto_ssh_run_probe_encode(w, 10, 5000, &p);
}

static int
run_probe_check(const struct proto_msg *m)
{
	struct proto_ssh_run_probe p;
	struct proto_wbuf w;
	int rc = proto_ssh_run_probe_decode(m, &p);

	if (rc != 0)
		return rc;
	rc = proto_ssh_run_probe_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &p);
	proto_ssh_run_probe_free(&p);
	return same(&w, rc, m);
}

static int
start_sample(struct proto_wbuf *w, int i)
{
	static char *args[] = { "--foo", "--extra='args'", "" };
	struct proto_ssh_start s = { "i-0abc", UUID, "docker", args, 3, (uint8_t *)"{\"Env\":{}}",
				     10 };

	if (i == 1) {
		s.nargs = 0;
		s.args = NULL;
		s.runtime_engine = "singularity";
	}
	return proto_ssh_start_encode(w, 11, 60000, &s, i == 1);
}

static int
start_check(const struct proto_msg *m)
{
	struct proto_ssh_start s;
	struct proto_wbuf w;
	int rc = proto_ssh_start_decode(m, &s);

	if (rc != 0)
		return rc;
	rc = proto_ssh_start_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &s,
				    (m->hdr.flags & PROTO_F_FD) != 0);
	proto_ssh_start_free(&s);
	return same(&w, rc, m);
}

static int
kill_sample(struct proto_wbuf *w, int i)
{
	return proto_ssh_kill_encode(
		w, 12, 10000, &(struct proto_ssh_kill){ "i-0abc", UUID, (uint8_t)(i ? 9 : 15) });
}

static int
kill_check(const struct proto_msg *m)
{
	struct proto_ssh_kill k;
	struct proto_wbuf w;
	int rc = proto_ssh_kill_decode(m, &k);

	if (rc != 0)
		return rc;
	rc = proto_ssh_kill_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &k);
	proto_ssh_kill_free(&k);
	return same(&w, rc, m);
}

static int
ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_ssh_ans a = {
		.outcome = PROTO_SSH_OK,
		.exit_status = 0,
		.exit_signal = "",
		.out = (uint8_t *)UUID "\n" UUID " stale\n",
		.out_len = 62,
		.err = (uint8_t *)"warning\n",
		.err_len = 8,
		.message = "",
		.host_key_fp = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
		.pinned = true,
	};

	if (i == 1)
		a = (struct proto_ssh_ans){ .outcome = PROTO_SSH_BAD_SECRET,
					    .exit_status = 0,
					    .message = "bad instance secret",
					    .out_truncated = false };
	if (i == 2)
		a = (struct proto_ssh_ans){ .outcome = PROTO_SSH_EXIT,
					    .exit_status = -1,
					    .exit_signal = "KILL",
					    .out_truncated = true,
					    .err_truncated = true };
	return proto_ssh_ans_encode(w, i == 1 ? PROTO_SSH_VERIFY_ANS : PROTO_SSH_RUN_PROBE_ANS, 13,
				    &a);
}

static int
ans_check(const struct proto_msg *m)
{
	struct proto_ssh_ans a;
	struct proto_wbuf w;
	int rc = proto_ssh_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_ssh_ans_encode(&w, m->hdr.type, m->hdr.reqid, &a);
	proto_ssh_ans_free(&a);
	return same(&w, rc, m);
}

const struct proto_case proto_ssh_cases[] = {
	{ "ssh_verify", verify_sample, 2, verify_check },
	{ "ssh_target", target_sample, 2, target_check },
	{ "ssh_deploy", deploy_sample, 1, deploy_check },
	{ "ssh_run_probe", run_probe_sample, 2, run_probe_check },
	{ "ssh_start", start_sample, 2, start_check },
	{ "ssh_kill", kill_sample, 2, kill_check },
	{ "ssh_ans", ans_sample, 3, ans_check },
};
const size_t proto_ssh_ncases = sizeof(proto_ssh_cases) / sizeof(proto_ssh_cases[0]);

const struct proto_case *
proto_ssh_case_find(const char *name)
{
	for (size_t i = 0; i < proto_ssh_ncases; i++)
		if (strcmp(proto_ssh_cases[i].name, name) == 0)
			return &proto_ssh_cases[i];
	return NULL;
}
