/* proto_cases.c - sample encodings and canonical-re-encoding checks for every decoder. */
#include "proto_cases.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Compare a re-encoding's payload with the decoded message's; frees w. */
static int
proto_case_same(struct proto_wbuf *w, int enc_rc, const struct proto_msg *m)
{
	int rc = 0;

	if (enc_rc != 0)
		return -EILSEQ; /* decoded but cannot be sent back: asymmetric bounds */
	if (w->len - PROTO_HDR_LEN != m->payload_len ||
	    memcmp(w->data + PROTO_HDR_LEN, m->payload, m->payload_len) != 0)
		rc = -EILSEQ;
	proto_wbuf_free(w);
	return rc;
}

int
proto_case_view(const uint8_t *buf, size_t len, struct proto_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (proto_hdr_parse(buf, len, &m->hdr) != 0)
		return -EBADMSG;
	m->payload = buf + PROTO_HDR_LEN;
	m->payload_len = len - PROTO_HDR_LEN;
	m->fd = -1;
	return 0;
}

/* ---- hello ---- */

static int
hello_sample(struct proto_wbuf *w, int i)
{
	static char longid[PROTO_MAX_BUILD_ID + 1];
	struct proto_hello h = { PROTO_VERSION, "0.1.0-abcdef", "cloudd", 4242 };

	if (i == 1)
		h = (struct proto_hello){ 7, "", "", 0 };
	if (i == 2) {
		memset(longid, 'x', PROTO_MAX_BUILD_ID);
		h = (struct proto_hello){ PROTO_VERSION, longid, "sshd-pool", UINT32_MAX };
	}
	return proto_hello_encode(w, i == 1 ? PROTO_HELLO_ANS : PROTO_HELLO_REQ, 9, &h);
}

static int
hello_check(const struct proto_msg *m)
{
	struct proto_hello h;
	struct proto_wbuf w;
	int rc = proto_hello_decode(m, &h);

	if (rc != 0)
		return rc;
	rc = proto_hello_encode(&w, m->hdr.type, m->hdr.reqid, &h);
	proto_hello_free(&h);
	return proto_case_same(&w, rc, m);
}

/* ---- ping ---- */

static int
ping_sample(struct proto_wbuf *w, int i)
{
	struct proto_ping p = { i == 0 ? 0x0102030405060708ull : UINT64_MAX };

	return proto_ping_encode(w, i == 0 ? PROTO_PING_REQ : PROTO_PING_ANS, 3, &p);
}

static int
ping_check(const struct proto_msg *m)
{
	struct proto_ping p;
	struct proto_wbuf w;
	int rc = proto_ping_decode(m, &p);

	if (rc != 0)
		return rc;
	rc = proto_ping_encode(&w, m->hdr.type, m->hdr.reqid, &p);
	return proto_case_same(&w, rc, m);
}

/* ---- status ---- */

static int
status_sample(struct proto_wbuf *w, int i)
{
	struct proto_status s = { PROTO_OK, "" };

	if (i == 1)
		s = (struct proto_status){ PROTO_E_FAILED, "driver \"ec2\": no credentials" };
	return proto_status_encode(w, PROTO_CLOUD_INIT_ANS, 77, &s);
}

static int
status_check(const struct proto_msg *m)
{
	struct proto_status s;
	struct proto_wbuf w;
	int rc = proto_status_decode(m, &s);

	if (rc != 0)
		return rc;
	rc = proto_status_encode(&w, m->hdr.type, m->hdr.reqid, &s);
	proto_status_free(&s);
	return proto_case_same(&w, rc, m);
}

/* ---- cloud_init ---- */

static int
cloud_init_sample(struct proto_wbuf *w, int i)
{
	char *keys[] = { "Owner", "Project", "e" };
	char *vals[] = { "arvados", "zzzzz", "" };
	struct proto_cloud_init c = {
		.driver = "ec2",
		.driver_params_json =
			"{\"AccessKeyID\":\"AKIAEXAMPLE\",\"SecretAccessKey\":\"s3cr3t\"}",
		.instance_set_id = "zzzzz-dispatch",
		.tag_key_prefix = "Arvados",
	};

	if (i == 1) {
		c.driver = "loopback";
		c.driver_params_json = "{}";
		c.shared_tag_keys = keys;
		c.shared_tag_values = vals;
		c.n_shared_tags = 3;
	}
	return proto_cloud_init_encode(w, 5, 30000, &c);
}

static int
cloud_init_check(const struct proto_msg *m)
{
	struct proto_cloud_init c;
	struct proto_wbuf w;
	int rc = proto_cloud_init_decode(m, &c);

	if (rc != 0)
		return rc;
	rc = proto_cloud_init_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &c);
	proto_cloud_init_free(&c);
	return proto_case_same(&w, rc, m);
}

/* ---- ssh_init ---- */

static int
ssh_init_sample(struct proto_wbuf *w, int i)
{
	static uint8_t key[] = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n"
			       "-----END OPENSSH PRIVATE KEY-----\n";
	struct proto_ssh_init s = {
		.private_key = key,
		.private_key_len = sizeof(key) - 1,
		.boot_probe_command = "systemctl is-system-running",
		.ssh_port = "22",
		.cluster_id = "zzzzz",
		.connect_timeout_ms = 10000,
		.command_timeout_ms = 60000,
	};

	if (i == 1) { /* the runner settings (spec 5.8) */
		s.crunch_run_command = "/usr/bin/crunch-run";
		s.deploy_dir = "/tmp/arvados-crunch-run";
		s.runner_md5 = "d41d8cd98f00b204e9800998ecf8427e";
		s.imds_url = "http://169.254.169.254";
		s.imds_kind = "azure";
	}
	return proto_ssh_init_encode(w, 11, 5000, &s, i == 1);
}

static int
ssh_init_check(const struct proto_msg *m)
{
	struct proto_ssh_init s;
	struct proto_wbuf w;
	int rc = proto_ssh_init_decode(m, &s);

	if (rc != 0)
		return rc;
	rc = proto_ssh_init_encode(&w, m->hdr.reqid, m->hdr.timeout_ms, &s,
				   (m->hdr.flags & PROTO_F_FD) != 0);
	proto_ssh_init_free(&s);
	return proto_case_same(&w, rc, m);
}

/* ---- ssh_init_ans ---- */

static int
ssh_init_ans_sample(struct proto_wbuf *w, int i)
{
	struct proto_ssh_init_ans a = { PROTO_OK, "",
					"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG dispatch@zzzzz" };

	if (i == 1)
		a = (struct proto_ssh_init_ans){ PROTO_E_INVALID, "key: unsupported format", "" };
	return proto_ssh_init_ans_encode(w, 12, &a);
}

static int
ssh_init_ans_check(const struct proto_msg *m)
{
	struct proto_ssh_init_ans a;
	struct proto_wbuf w;
	int rc = proto_ssh_init_ans_decode(m, &a);

	if (rc != 0)
		return rc;
	rc = proto_ssh_init_ans_encode(&w, m->hdr.reqid, &a);
	proto_ssh_init_ans_free(&a);
	return proto_case_same(&w, rc, m);
}

const struct proto_case proto_cases[] = {
	{ "hello", hello_sample, 3, hello_check },
	{ "ping", ping_sample, 2, ping_check },
	{ "status", status_sample, 2, status_check },
	{ "cloud_init", cloud_init_sample, 2, cloud_init_check },
	{ "ssh_init", ssh_init_sample, 2, ssh_init_check },
	{ "ssh_init_ans", ssh_init_ans_sample, 2, ssh_init_ans_check },
};
const size_t proto_ncases = sizeof(proto_cases) / sizeof(proto_cases[0]);

const struct proto_case *
proto_case_find(const char *name)
{
	for (size_t i = 0; i < proto_ncases; i++)
		if (strcmp(proto_cases[i].name, name) == 0)
			return &proto_cases[i];
	return NULL;
}
