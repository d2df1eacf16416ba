/*
 * sshpool_rig_test.c - the sess/ops API against real OpenSSH and dropbear workers (tests/rig).
 * Usage: sshpool_rig_test SSHD_RIG_PY KEYDIR ROOT_RIG_DIR USER_RIG_DIR (test_sshpool.py does it).
 * Every scenario asserts outcomes; ordering assertions replace timing ones.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops.h"
#include "proto_ssh.h"
#include "sess.h"
#include "sshpool.h"
#include "uv_wait.h"

#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #c); \
			exit(1);                                                        \
		}                                                                       \
	} while (0)
#define UUID1 "zzzzz-dz642-000000000000001"
#define UUID2 "zzzzz-dz642-000000000000002"

struct worker {
	char id[16], kind[16], address[64], host_key[1024], dir[512], state_dir[512], lock_dir[512],
		secret_file[512], user[32];
	int port;
};

static uv_loop_t *loop;
static const char *rig_py, *keydir;
static struct worker W[128], U; /* W: root rig (openssh then dropbear), U: the non-root worker */
static int nw;

/* ---- helpers ------------------------------------------------------------------------------ */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap && (buf = realloc(buf, cap = cap * 2 + 8192)) == NULL)
			exit(2);
		size_t r = fread(buf + n, 1, 4096, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void
jstr(char *dst, size_t len, cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);

	snprintf(dst, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int
load_rig(const char *dir, struct worker *out, int max)
{
	char p[600];
	char *text;
	cJSON *d, *ws, *w;
	int n = 0;

	snprintf(p, sizeof(p), "%s/desc.json", dir);
	CHECK((text = slurp(p, NULL)) != NULL);
	CHECK((d = cJSON_Parse(text)) != NULL);
	ws = cJSON_GetObjectItem(d, "workers");
	cJSON_ArrayForEach(w, ws)
	{
		CHECK(n < max);
		jstr(out[n].id, sizeof(out[n].id), w, "id");
		jstr(out[n].kind, sizeof(out[n].kind), w, "kind");
		jstr(out[n].address, sizeof(out[n].address), w, "address");
		jstr(out[n].host_key, sizeof(out[n].host_key), w, "host_key");
		jstr(out[n].dir, sizeof(out[n].dir), w, "worker_dir");
		jstr(out[n].state_dir, sizeof(out[n].state_dir), w, "state_dir");
		jstr(out[n].lock_dir, sizeof(out[n].lock_dir), w, "lock_dir");
		jstr(out[n].secret_file, sizeof(out[n].secret_file), w, "secret_file");
		jstr(out[n].user, sizeof(out[n].user), w, "user");
		out[n].port = cJSON_GetObjectItem(w, "port")->valueint;
		n++;
	}
	cJSON_Delete(d);
	free(text);
	return n;
}

static void
rig_ctl(const char *dir, const char *fmt, ...)
{
	char words[256], cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(words, sizeof(words), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s ctl --dir %s %s >/dev/null", rig_py, dir,
		 words);
	CHECK(system(cmd) == 0);
}

static ssh_key keys[16];
static int nkeys;

static ssh_key
load_key(const char *name)
{
	char p[600], *text, *pub;
	char why[256];
	ssh_key k;

	snprintf(p, sizeof(p), "%s/%s", keydir, name);
	CHECK((text = slurp(p, NULL)) != NULL);
	CHECK(sshpool_key_load(text, &k, &pub, why, sizeof(why)) == 0);
	free(text);
	free(pub);
	CHECK(nkeys < 16);
	keys[nkeys++] = k;
	return k;
}

/* A finished operation, copied out of the callback. */
struct waiter {
	bool done;
	int outcome, exit_status;
	char *out, *err, *host_key;
	size_t out_len;
	bool out_truncated;
	char error[256];
	unsigned seq;
};
static unsigned seq;

static void
on_done(int outcome, struct sess_result *r, void *arg)
{
	struct waiter *w = arg;

	CHECK(!w->done);
	w->done = true;
	w->seq = ++seq;
	w->outcome = outcome;
	w->exit_status = r->exit_status;
	w->out = r->out ? strdup((char *)r->out) : strdup("");
	w->out_len = r->out_len;
	w->out_truncated = r->out_truncated;
	w->err = r->err ? strdup((char *)r->err) : strdup("");
	w->host_key = r->host_key ? strdup(r->host_key) : NULL;
	snprintf(w->error, sizeof(w->error), "%s", r->error);
}

/* The shared wait (tests/support): a bare UV_RUN_ONCE loop can sleep past a completion made by
 * a timer (libuv 1.44, issue 18). Every operation has its own, shorter deadline. */
static void
wait_all(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++)
		CHECK(uvw_until_true(loop, &w[i].done, 120000) == 0);
}

static bool
two_channels(void *arg)
{
	struct sess_stats st;

	sess_get_stats(arg, &st);
	return st.channels >= 2;
}

static void
waiter_reset(struct waiter *w)
{
	free(w->out), free(w->err), free(w->host_key);
	memset(w, 0, sizeof(*w));
}

static void
expect(struct waiter *w, int outcome, const char *what)
{
	wait_all(w, 1);
	if (w->outcome != outcome) {
		fprintf(stderr, "FAILED %s: outcome %d (want %d) exit %d error '%s' stderr '%s'\n",
			what, w->outcome, outcome, w->exit_status, w->error, w->err);
		exit(1);
	}
	printf("ok - %s\n", what);
}

static char *
secret_of(const struct worker *w, size_t *len)
{
	char *s = slurp(w->secret_file, len);

	CHECK(s != NULL && *len > 0);
	return s;
}

static struct sess_pool *
mkpool(ssh_key key, uint64_t connect_ms, uint64_t cmd_ms)
{
	struct sess_opts o = { .key = key,
			       .connect_timeout_ms = connect_ms,
			       .command_timeout_ms = cmd_ms,
			       .keepalive_ms = 2000,
			       .keepalive_timeout_ms = 3000,
			       .max_connecting = 6 };
	struct sess_pool *p;

	CHECK(sess_pool_new(loop, &o, &p) == 0);
	return p;
}

static struct ops *
mkops(const char *boot, const char *hash)
{
	struct ops_conf c = { .boot_probe_command = boot, .runner_hash = hash };
	struct ops *o;
	char why[256];

	CHECK(ops_new(&c, &o, why, sizeof(why)) == 0);
	return o;
}

static struct sess *
sess_of(struct sess_pool *p, const struct worker *w)
{
	struct sess *s;

	CHECK(sess_get(p, w->id, w->address, w->port, w->user, &s) == 0);
	return s;
}

/* verify identity and expect it to pin the worker's key */
static struct sess *
verified(struct sess_pool *p, struct ops *o, const struct worker *w)
{
	struct sess *s = sess_of(p, w);
	struct waiter v = { 0 };
	size_t len;
	char *sec = secret_of(w, &len);

	CHECK(ops_verify(o, s, (uint8_t *)sec, len, on_done, &v) == 0);
	wait_all(&v, 1);
	if (v.outcome != OPS_OK)
		fprintf(stderr, "verify %s: %d %s\n", w->id, v.outcome, v.error);
	CHECK(v.outcome == OPS_OK);
	CHECK(v.host_key && strcmp(v.host_key, w->host_key) == 0);
	CHECK(sess_pinned(s) && strcmp(sess_pinned(s), w->host_key) == 0);
	free(sec);
	waiter_reset(&v);
	return s;
}

static int
count_lines(const char *path, const char *needle)
{
	char *t = slurp(path, NULL);
	int n = 0;

	for (char *p = t; p && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(t);
	return n;
}

/* ---- scenarios ---------------------------------------------------------------------------- */

static void
t_all_ops(struct sess_pool *p, struct ops *o, const struct worker *w, const char *runner_file)
{
	struct waiter a = { 0 };
	struct sess *s;
	char path[700], *txt, label[128];
	const char *prices = "[{\"StartTime\":\"2024-01-01T00:00:00Z\",\"Price\":0.25}]";
	const char *payload = "{\"Env\":{\"ARVADOS_API_HOST\":\"x:1\"},\"KeepBuffers\":0}";

	s = sess_of(p, w);
	/* not verified: anything but the identity check is refused before sending */
	CHECK(ops_boot_probe(o, s, on_done, &a) == -EPERM);
	s = verified(p, o, w);
	snprintf(label, sizeof(label), "%s %s: verify pins the host key", w->kind, w->id);
	printf("ok - %s\n", label);

	CHECK(ops_boot_probe(o, s, on_done, &a) == 0);
	snprintf(label, sizeof(label), "%s: boot probe", w->id);
	expect(&a, OPS_OK, label);
	waiter_reset(&a);

	CHECK(ops_run_probe(o, s, (const uint8_t *)prices, strlen(prices), false, on_done, &a) ==
	      0);
	snprintf(label, sizeof(label), "%s: run probe with prices", w->id);
	expect(&a, OPS_OK, label);
	snprintf(path, sizeof(path), "%s/crunch-run-prices.json", w->lock_dir);
	CHECK((txt = slurp(path, NULL)) != NULL && strstr(txt, "0.25") != NULL);
	free(txt);
	waiter_reset(&a);

	CHECK(ops_start(o, s, UUID1, (const uint8_t *)payload, strlen(payload), on_done, &a) == 0);
	snprintf(label, sizeof(label), "%s: start container", w->id);
	expect(&a, OPS_OK, label);
	CHECK(strstr(a.out, UUID1) != NULL);
	snprintf(path, sizeof(path), "%s/payload-%s.json", w->state_dir, UUID1);
	CHECK((txt = slurp(path, NULL)) != NULL && strstr(txt, "ARVADOS_API_HOST") != NULL);
	free(txt);
	waiter_reset(&a);
	snprintf(path, sizeof(path), "%s/invocations.jsonl", w->state_dir);
	CHECK(count_lines(path, "--runtime-engine=docker") >= 1);

	CHECK(ops_run_probe(o, s, NULL, 0, false, on_done, &a) == 0);
	expect(&a, OPS_OK, "run probe lists the container");
	CHECK(strstr(a.out, UUID1) != NULL);
	waiter_reset(&a);

	CHECK(ops_kill(o, s, UUID1, 15, on_done, &a) == 0);
	snprintf(label, sizeof(label), "%s: kill container", w->id);
	expect(&a, OPS_OK, label);
	waiter_reset(&a);
	CHECK(ops_run_probe(o, s, NULL, 0, false, on_done, &a) == 0);
	expect(&a, OPS_OK, "run probe no longer lists it");
	CHECK(strstr(a.out, UUID1) == NULL);
	waiter_reset(&a);

	if (runner_file != NULL) {
		/* deploy: the stub itself as the runner binary */
		char md5[33], cmd[700], dst[700];
		FILE *f;
		int fd = open(runner_file, O_RDONLY);
		struct stat st;

		CHECK(fd >= 0);
		snprintf(cmd, sizeof(cmd), "md5sum %s", runner_file);
		CHECK((f = popen(cmd, "r")) != NULL && fscanf(f, "%32s", md5) == 1);
		pclose(f);
		CHECK(ops_deploy(o, s, fd, "0123456789abcdef0123456789abcdef", on_done, &a) ==
		      -EINVAL);
		CHECK(ops_deploy(o, s, fd, md5, on_done, &a) == 0);
		snprintf(label, sizeof(label), "%s: deploy runner", w->id);
		expect(&a, OPS_OK, label);
		waiter_reset(&a);
		snprintf(dst, sizeof(dst), "%s/deploy/crunch-run~%s", w->dir, md5);
		CHECK(stat(dst, &st) == 0 && (st.st_mode & 0777) == 0755);
		CHECK(ops_deploy(o, s, fd, md5, on_done, &a) == OPS_ALREADY);
		/* the deployed copy runs as the runner */
		struct ops *od = mkops(NULL, md5);
		CHECK(ops_run_probe(od, s, NULL, 0, false, on_done, &a) == 0);
		expect(&a, OPS_OK, "run probe through the deployed runner");
		waiter_reset(&a);
		ops_free(od);
		close(fd);
	}
}

/* A frozen worker's op stays pending while others complete; then it times out. */
static void
t_frozen(struct sess_pool *p, struct ops *o, const char *rigdir, const struct worker *frozen,
	 const struct worker *others, int nothers, bool established)
{
	struct waiter f = { 0 }, *ok = calloc((size_t)nothers * 3, sizeof(*ok));
	struct sess *fs = established ? verified(p, o, frozen) : sess_of(p, frozen);
	size_t len;
	char *sec = secret_of(frozen, &len);

	for (int i = 0; i < nothers; i++)
		if (sess_pinned(sess_of(p, &others[i])) == NULL)
			verified(p, o, &others[i]);
	rig_ctl(rigdir, "%s %s", established ? "freeze-all" : "freeze", frozen->id);
	if (established)
		CHECK(ops_boot_probe(o, fs, on_done, &f) == 0);
	else
		CHECK(ops_verify(o, fs, (uint8_t *)sec, len, on_done, &f) == 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < nothers; i++)
			CHECK(ops_run_probe(o, sess_of(p, &others[i]), NULL, 0, false, on_done,
					    &ok[round * nothers + i]) == 0);
		wait_all(ok + round * nothers, nothers);
		for (int i = 0; i < nothers; i++)
			CHECK(ok[round * nothers + i].outcome == OPS_OK);
		CHECK(!f.done); /* the others finished while the frozen one is still pending */
	}
	expect(&f, -ETIMEDOUT,
	       established ? "frozen established session: command times out, others "
			     "completed meanwhile"
			   : "frozen sshd: connect times out, others completed meanwhile");
	printf("#   %s\n", f.error);
	rig_ctl(rigdir, "thaw %s", frozen->id);
	for (int i = 0; i < nothers * 3; i++)
		waiter_reset(&ok[i]);
	free(ok);
	free(sec);
	waiter_reset(&f);
}

static void
t_restart(struct sess_pool *p, const char *rigdir, const struct worker *w)
{
	struct ops *slow = mkops("sleep 30", NULL);
	struct waiter a = { 0 };
	struct sess *s = verified(p, slow, w);
	struct sess_stats st;

	CHECK(ops_boot_probe(slow, s, on_done, &a) == 0);
	/* until the channel is open and the command has had time to start */
	CHECK(uvw_run_until(loop, two_channels, s, 60000) == 0);
	uvw_run_for(loop, 300);
	rig_ctl(rigdir, "stop %s", w->id); /* sshd and its session processes die */
	expect(&a, -ECONNRESET, "sshd killed mid-command: the command fails with a clear error");
	printf("#   %s\n", a.error);
	CHECK(strstr(a.error, "lost") != NULL);
	waiter_reset(&a);
	rig_ctl(rigdir, "start %s", w->id);
	struct ops *o = mkops(NULL, NULL);
	CHECK(ops_run_probe(o, s, NULL, 0, false, on_done, &a) == 0);
	expect(&a, OPS_OK, "sshd restarted: the session reconnects");
	sess_get_stats(s, &st);
	CHECK(st.connected >= 2);
	waiter_reset(&a);
	ops_free(o);
	ops_free(slow);
}

/* Spec 6: a command on a worker with no connection sets one up. A worker whose sshd refuses
 * (stopped, or not started yet while it boots) is tried again at the next command, however many
 * setups failed before: the dispatcher paces its commands (probes at ProbeInterval), and a
 * back-off here (the old 1 s doubling to 30 s) held the probes of a booting worker, so its boot
 * was seen up to 30 s late: its 4th command waited 4 s for the back-off and timed out here. */
static void
t_refused_until_up(struct ops *o, const char *rigdir, const struct worker *w)
{
	struct sess_opts so = { .key = load_key("ed25519"),
				.connect_timeout_ms = 4000,
				.command_timeout_ms = 4000,
				.keepalive_ms = SESS_KEEPALIVE_OFF };
	struct sess_pool *p;
	struct waiter a = { 0 };
	struct sess *s;
	int tries = 0, refused = 0;

	CHECK(sess_pool_new(loop, &so, &p) == 0);
	s = verified(p, o, w);
	rig_ctl(rigdir, "stop %s", w->id);
	/* the connection is lost with the server; then every setup is refused */
	while (refused < 8) {
		CHECK(++tries < 100);
		CHECK(ops_run_probe(o, s, NULL, 0, false, on_done, &a) == 0);
		wait_all(&a, 1);
		if (a.outcome == -ECONNREFUSED) {
			refused++;
		} else {
			if (refused > 0 || a.outcome == -ETIMEDOUT)
				fprintf(stderr, "probe %d: %d %s\n", tries, a.outcome, a.error);
			CHECK(refused == 0 && a.outcome != -ETIMEDOUT);
		}
		waiter_reset(&a);
	}
	printf("ok - 8 probes of a stopped worker in a row each refused at once, none held\n");
	rig_ctl(rigdir, "start %s", w->id);
	CHECK(ops_run_probe(o, s, NULL, 0, false, on_done, &a) == 0);
	expect(&a, OPS_OK, "the worker's sshd back: the next probe connects");
	waiter_reset(&a);
	sess_pool_free(p);
}

static void
t_host_key_change(struct sess_pool *p, struct ops *o, const char *rigdir, const struct worker *w)
{
	struct waiter a = { 0 };
	struct sess *s = verified(p, o, w);

	rig_ctl(rigdir, "rotate-key %s", w->id);
	sess_drop(s, "test: force a new connection");
	CHECK(ops_boot_probe(o, s, on_done, &a) == 0);
	expect(&a, -EKEYREJECTED, "host key changed after pinning: connection refused");
	printf("#   %s\n", a.error);
	CHECK(strstr(a.error, "changed") != NULL);
	waiter_reset(&a);
}

static void
t_bad_secret(struct sess_pool *p, struct ops *o, const char *rigdir, const struct worker *w)
{
	struct waiter a = { 0 };
	struct sess *s = sess_of(p, w);
	size_t len;
	char *sec = secret_of(w, &len);
	struct sess_stats st;

	rig_ctl(rigdir, "secret %s not-the-right-one", w->id);
	CHECK(ops_verify(o, s, (uint8_t *)sec, len, on_done, &a) == 0);
	expect(&a, OPS_BAD_SECRET, "secret mismatch refused and reported");
	CHECK(strcmp(a.error, "bad instance secret") == 0);
	CHECK(a.out_len == 0);
	CHECK(sess_pinned(s) == NULL);
	CHECK(strcmp(sess_state(s), "idle") == 0); /* the connection was closed */
	sess_get_stats(s, &st);
	CHECK(st.dropped == 1);
	free(sec);
	waiter_reset(&a);
}

/* A host key vouched for by the driver (loopback, PROTO_SSH_HOST_KEY_PREFIX): another key is
 * refused and nothing is pinned; the worker's own key (with a comment) is accepted and pinned,
 * without the secret file being read. */
static void
t_vouched_key(struct sess_pool *p, struct ops *o, const struct worker *w, const char *other_key)
{
	struct waiter a = { 0 };
	struct sess *s = sess_of(p, w);
	char vouch[1200];

	CHECK(strcmp(other_key, w->host_key) != 0);
	snprintf(vouch, sizeof(vouch), PROTO_SSH_HOST_KEY_PREFIX "%s", other_key);
	CHECK(ops_verify(o, s, (uint8_t *)vouch, strlen(vouch), on_done, &a) == 0);
	expect(&a, OPS_BAD_SECRET, "vouched-for host key: another key is refused");
	CHECK(strcmp(a.error, "host key mismatch") == 0);
	CHECK(sess_pinned(s) == NULL);
	waiter_reset(&a);

	snprintf(vouch, sizeof(vouch), PROTO_SSH_HOST_KEY_PREFIX "%s loopback", w->host_key);
	CHECK(ops_verify(o, s, (uint8_t *)vouch, strlen(vouch), on_done, &a) == 0);
	expect(&a, OPS_OK, "vouched-for host key: the worker's own key is accepted");
	CHECK(sess_pinned(s) && strcmp(sess_pinned(s), w->host_key) == 0);
	waiter_reset(&a);
	CHECK(ops_boot_probe(o, s, on_done, &a) == 0);
	expect(&a, OPS_OK, "vouched-for host key: the session is verified");
	waiter_reset(&a);
}

static void
t_wrong_key(struct ops *o, const struct worker *w)
{
	struct sess_pool *p = mkpool(load_key("wrong"), 20000, 20000);
	struct waiter a = { 0 };
	size_t len;
	char *sec = secret_of(w, &len);

	CHECK(ops_verify(o, sess_of(p, w), (uint8_t *)sec, len, on_done, &a) == 0);
	expect(&a, -EACCES, "an unauthorized key is refused");
	printf("#   %s\n", a.error);
	waiter_reset(&a);
	free(sec);
	sess_pool_free(p);
}

static void
t_key_types(struct ops *o, const struct worker *w)
{
	static const char *const names[] = { "ecdsa", "rsa" };

	for (int i = 0; i < 2; i++) {
		struct sess_pool *p = mkpool(load_key(names[i]), 20000, 20000);
		struct waiter a = { 0 };
		struct sess *s = verified(p, o, w);

		CHECK(ops_boot_probe(o, s, on_done, &a) == 0);
		expect(&a, OPS_OK, names[i]);
		waiter_reset(&a);
		sess_pool_free(p);
	}
}

static void
t_hostile_uuid(struct sess_pool *p, struct ops *o, const struct worker *w)
{
	struct waiter a = { 0 };
	struct sess *s = sess_of(p, w);
	struct sess_stats st;
	static const char *const bad[] = { "zzzzz-dz642-00000000000000;", "zzzzz-dz642-$(touch /x)",
					   "zzzzz-dz642-0000000000001 x",
					   "zzzzz-dz642-000000000000001'", "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(ops_start(o, s, bad[i], (const uint8_t *)"{}", 2, on_done, &a) == -EINVAL);
		CHECK(ops_kill(o, s, bad[i], 15, on_done, &a) == -EINVAL);
	}
	CHECK(ops_kill(o, s, UUID2, 99, on_done, &a) == -EINVAL);
	for (int i = 0; i < 5; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	sess_get_stats(s, &st);
	CHECK(st.connects == 0 && st.channels == 0 && !a.done);
	printf("ok - hostile UUIDs and signals rejected before anything is sent\n");
}

static void
t_truncation(struct sess_pool *p, const struct worker *w)
{
	struct ops *big = mkops("head -c 3000000 /dev/zero | tr '\\0' x; echo bye >&2", NULL);
	struct waiter a = { 0 };
	struct sess *s = sess_of(p, w); /* verified by t_all_ops */

	CHECK(ops_boot_probe(big, s, on_done, &a) == 0);
	expect(&a, OPS_OK, "huge stdout: truncated and flagged");
	CHECK(a.out_truncated && a.out_len == 1024 * 1024 && strcmp(a.err, "bye\n") == 0);
	waiter_reset(&a);
	ops_free(big);
}

static void
t_unsafe_dir(struct sess_pool *p, struct ops *o, const struct worker *w, const char *runner_file)
{
	struct waiter a = { 0 };
	struct sess *s = verified(p, o, w);
	char dir[700], md5[33], cmd[1024];
	FILE *f;
	int fd = open(runner_file, O_RDONLY);

	snprintf(dir, sizeof(dir), "%s/deploy", w->dir);
	CHECK(chown(dir, 65534, 65534) == 0);
	snprintf(cmd, sizeof(cmd), "md5sum %s", runner_file);
	CHECK((f = popen(cmd, "r")) != NULL && fscanf(f, "%32s", md5) == 1);
	pclose(f);
	CHECK(ops_deploy(o, s, fd, md5, on_done, &a) == 0);
	expect(&a, OPS_UNSAFE_DIR, "deploy into a directory owned by another user refused");
	printf("#   %s\n", a.error);
	waiter_reset(&a);
	CHECK(chown(dir, 0, 0) == 0);
	close(fd);
}

/* Issue 12, defect 2: eight workers deploying at once from ONE runner fd (as sshd-pool receives
 * it: every dup shares one file offset). Each worker must end with a byte-identical copy. */
static void
t_concurrent_deploy(struct sess_pool *p, struct ops *o, const struct worker *const *ws, int n)
{
	struct waiter a[16] = { 0 };
	char src[] = "/tmp/adc-runner-XXXXXX", md5[33], cmd[1400];
	FILE *f;
	int fd;

	CHECK(n <= 16);
	CHECK((fd = mkstemp(src)) >= 0);
	close(fd);
	/* 3 MiB: many chunks per stream, so interleaved reads would mix them */
	snprintf(cmd, sizeof(cmd), "head -c 3145728 /dev/urandom >%s", src);
	CHECK(system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "md5sum %s", src);
	CHECK((f = popen(cmd, "r")) != NULL && fscanf(f, "%32s", md5) == 1);
	pclose(f);
	CHECK((fd = open(src, O_RDONLY)) >= 0);
	for (int i = 0; i < n; i++)
		verified(p, o, ws[i]);
	for (int i = 0; i < n; i++)
		CHECK(ops_deploy(o, sess_of(p, ws[i]), fd, md5, on_done, &a[i]) == 0);
	wait_all(a, n);
	for (int i = 0; i < n; i++) {
		if (a[i].outcome != OPS_OK)
			fprintf(stderr, "%s: outcome %d exit %d error '%s' stderr '%s'\n",
				ws[i]->id, a[i].outcome, a[i].exit_status, a[i].error, a[i].err);
		CHECK(a[i].outcome == OPS_OK);
		snprintf(cmd, sizeof(cmd), "cmp -s %s %s/deploy/crunch-run~%s", src, ws[i]->dir,
			 md5);
		CHECK(system(cmd) == 0);
		waiter_reset(&a[i]);
	}
	close(fd);
	unlink(src);
	printf("ok - %d workers deployed one 3 MiB runner fd at once, every copy identical\n", n);
}

/* Issue 12, defect 5: crunch-run~<md5> in the deploy directory as a link to another file (a
 * worker user pointing it at /etc/nologin): refused before anything is written. */
static void
t_deploy_symlink(struct sess_pool *p, struct ops *o, const struct worker *w,
		 const char *runner_file)
{
	struct waiter a = { 0 };
	struct sess *s = verified(p, o, w);
	char link[900], victim[700], md5[33], cmd[1024];
	struct stat st;
	FILE *f;
	int fd = open(runner_file, O_RDONLY);

	snprintf(cmd, sizeof(cmd), "md5sum %s", runner_file);
	CHECK((f = popen(cmd, "r")) != NULL && fscanf(f, "%32s", md5) == 1);
	pclose(f);
	snprintf(victim, sizeof(victim), "%s/nologin-victim", w->dir);
	snprintf(link, sizeof(link), "%s/deploy/crunch-run~%s", w->dir, md5);
	unlink(link);
	CHECK(symlink(victim, link) == 0);
	CHECK(ops_deploy(o, s, fd, md5, on_done, &a) == 0);
	expect(&a, OPS_UNSAFE_DIR, "deploy over a link in the deploy directory refused");
	printf("#   %s\n", a.error);
	CHECK(lstat(victim, &st) != 0);
	waiter_reset(&a);
	CHECK(unlink(link) == 0);
	close(fd);
}

/* A listening socket on addr (any port). backlog 0 plus one connection of ours fills its accept
 * queue, and the kernel then drops every SYN (tcp_conn_request: "listen overflow"): connects to
 * it hang as to a blackholed address. A larger backlog with nobody calling accept: connects
 * succeed and the server never says a word (a hung sshd before its banner). */
static int
listener(const char *addr, int backlog, int *port, int *filler)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0 && inet_pton(AF_INET, addr, &a.sin_addr) == 1);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, backlog) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	*port = ntohs(a.sin_port);
	*filler = -1;
	if (backlog == 0) {
		*filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK(*filler >= 0 && connect(*filler, (struct sockaddr *)&a, sizeof(a)) == 0);
	}
	return fd;
}

/* Issue 16: 10 workers whose SYNs are dropped and 10 that accept and never send a banner are
 * asked first, with 8 handshake slots (the old default); a good worker asked after them is
 * verified while all 20 are still connecting. Before, each of the 20 held a slot from its TCP
 * connect on, and the good one waited for their connect timeout (here 5 minutes). */
static void
t_unreachable_first(struct ops *o, const struct worker *good)
{
	struct sess_opts so = { .key = load_key("ed25519"),
				.connect_timeout_ms = 300000,
				.command_timeout_ms = 300000,
				.keepalive_ms = SESS_KEEPALIVE_OFF,
				.max_connecting = 8 };
	struct waiter bad[20], g = { 0 };
	struct sess *bs[20];
	struct sess_pool *p;
	struct sess_pool_stats st;
	int bport, sport, bfill, sfill, bl, sl;
	size_t len;
	char *sec = secret_of(good, &len), id[32];

	bl = listener("127.0.3.1", 0, &bport, &bfill);
	sl = listener("127.0.3.2", 64, &sport, &sfill);
	CHECK(sess_pool_new(loop, &so, &p) == 0);
	memset(bad, 0, sizeof(bad));
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "%s-%d", i < 10 ? "blackholed" : "silent", i);
		CHECK(sess_get(p, id, i < 10 ? "127.0.3.1" : "127.0.3.2", i < 10 ? bport : sport,
			       "root", &bs[i]) == 0);
		CHECK(ops_verify(o, bs[i], (const uint8_t *)"x", 1, on_done, &bad[i]) == 0);
	}
	CHECK(ops_verify(o, sess_of(p, good), (uint8_t *)sec, len, on_done, &g) == 0);
	CHECK(uvw_until_true(loop, &g.done, 60000) == 0);
	if (g.outcome != OPS_OK)
		fprintf(stderr, "good worker: %d %s\n", g.outcome, g.error);
	CHECK(g.outcome == OPS_OK);
	for (int i = 0; i < 20; i++) {
		CHECK(!bad[i].done);
		CHECK(strcmp(sess_state(bs[i]), i < 10 ? "connecting" : "banner") == 0);
	}
	sess_pool_get_stats(p, &st);
	CHECK(st.conns == 21 && st.handshakes_peak <= 8);
	printf("ok - a good worker verified while 10 blackholed and 10 silent ones are "
	       "connecting\n");
	sess_pool_free(p); /* the 20 fail with -ECANCELED */
	wait_all(bad, 20);
	for (int i = 0; i < 20; i++)
		CHECK(bad[i].outcome == -ECANCELED);
	close(bl), close(sl), close(bfill);
	free(sec);
	waiter_reset(&g);
	for (int i = 0; i < 20; i++)
		waiter_reset(&bad[i]);
}

static int
count_state(struct sess *const *s, int n, const char *state)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += s[i] != NULL && strcmp(sess_state(s[i]), state) == 0;
	return k;
}

struct state_wait {
	struct sess **s;
	int n;
	const char *state[2];
	int want[2];
};

static bool
states_reached(void *arg)
{
	struct state_wait *w = arg;

	for (int k = 0; k < 2; k++)
		if (w->state[k] != NULL && count_state(w->s, w->n, w->state[k]) != w->want[k])
			return false;
	return true;
}

/* states_reached, or the good worker's verify done: the wait for the next stalled handshake
 * ends as soon as the good one has had its turn (else it lasted the whole guard). */
struct stall_or_done {
	struct state_wait sw;
	const struct waiter *good;
};

static bool
stall_or_done(void *arg)
{
	struct stall_or_done *w = arg;

	return w->good->done || states_reached(&w->sw);
}

/* What a session costs between TCP connect and handshake (issue 16): with one handshake slot
 * and a connect burst of 2, five servers that send their banner and nothing more are asked at
 * once. Two connects start at once, three wait for the next pace window; then one session holds
 * the slot (its key exchange never completes) and four wait for it holding a descriptor each and
 * no libssh session: one libssh session in all. A good worker asked then connects at once
 * (nothing caps the sessions waiting for a slot: good workers are not held behind stalled ones),
 * and is verified once the stalled handshake is closed. Before, every connected session had a
 * libssh session (five here: thousands of slow servers held thousands), and all connects
 * started in the same loop turn. */
static void
t_setup_costs(struct ops *o, const struct worker *good)
{
	struct sess_opts so = { .key = load_key("ed25519"),
				.connect_timeout_ms = 300000,
				.command_timeout_ms = 300000,
				.keepalive_ms = SESS_KEEPALIVE_OFF,
				.max_connecting = 1,
				.connect_burst = 2 };
	static const char banner[] = "SSH-2.0-OpenSSH_9.2 banner-only\r\n";
	struct waiter bad[5], g = { 0 };
	struct sess *bs[5], *gs;
	struct sess_pool *p;
	struct sess_pool_stats st;
	int port, fill, l, srv[5];
	size_t len;
	char *sec = secret_of(good, &len), id[32];

	l = listener("127.0.3.2", 64, &port, &fill);
	CHECK(sess_pool_new(loop, &so, &p) == 0);
	memset(bad, 0, sizeof(bad));
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "banner-only-%d", i);
		CHECK(sess_get(p, id, "127.0.3.2", port, "root", &bs[i]) == 0);
		CHECK(ops_verify(o, bs[i], (const uint8_t *)"x", 1, on_done, &bad[i]) == 0);
	}
	CHECK(uvw_run_until(loop, states_reached,
			    &(struct state_wait){ bs, 5, { "banner", NULL }, { 5, 0 } },
			    60000) == 0);
	sess_pool_get_stats(p, &st);
	CHECK(st.conn_waits == 3 && st.ssh_sessions == 0);
	for (int i = 0; i < 5; i++) { /* all five are in the accept queue: they are connected */
		CHECK((srv[i] = accept(l, NULL, NULL)) >= 0);
		CHECK(write(srv[i], banner, sizeof(banner) - 1) == (ssize_t)sizeof(banner) - 1);
	}
	CHECK(uvw_run_until(loop, states_reached,
			    &(struct state_wait){ bs, 5, { "handshake", "slot" }, { 1, 4 } },
			    60000) == 0);
	sess_pool_get_stats(p, &st);
	CHECK(st.ssh_sessions == 1 && st.slot_queued == 4);
	gs = sess_of(p, good);
	CHECK(ops_verify(o, gs, (uint8_t *)sec, len, on_done, &g) == 0);
	CHECK(uvw_run_until(loop, states_reached,
			    &(struct state_wait){ &gs, 1, { "slot", NULL }, { 1, 0 } },
			    60000) == 0);
	for (int i = 0; i < 5; i++)
		if (strcmp(sess_state(bs[i]), "handshake") == 0)
			sess_close(bs[i]), bs[i] = NULL;
	/* The four stalled ones are ahead of it in the slot queue: each gets the slot in turn and
	 * stalls; close each as it does, until the good one has it. */
	while (!g.done) {
		CHECK(uvw_run_until(loop, stall_or_done,
				    &(struct stall_or_done){
					    { bs, 5, { "handshake", NULL }, { 1, 0 } }, &g },
				    60000) == 0);
		for (int i = 0; i < 5; i++)
			if (bs[i] != NULL && strcmp(sess_state(bs[i]), "handshake") == 0)
				sess_close(bs[i]), bs[i] = NULL;
		if (count_state(bs, 5, "slot") == 0)
			CHECK(uvw_until_true(loop, &g.done, 60000) == 0);
	}
	if (g.outcome != OPS_OK)
		fprintf(stderr, "good worker: %d %s\n", g.outcome, g.error);
	CHECK(g.outcome == OPS_OK);
	wait_all(bad, 5);
	for (int i = 0; i < 5; i++)
		CHECK(bad[i].outcome == -ECANCELED);
	sess_pool_get_stats(p, &st);
	CHECK(st.ssh_sessions_peak <= 2 && st.handshakes_peak == 1);
	printf("ok - between TCP connect and handshake a session holds no libssh session; connects "
	       "start at most connect_burst at a time\n");
	sess_pool_free(p);
	for (int i = 0; i < 5; i++)
		close(srv[i]);
	close(l);
	free(sec);
	waiter_reset(&g);
	for (int i = 0; i < 5; i++)
		waiter_reset(&bad[i]);
}

static bool
two_done(void *arg)
{
	struct waiter *v = arg;

	return v[0].done && v[1].done;
}

/* The descriptor budget: with room for 2 connections, 4 workers asked at once connect 2 at a
 * time; the other 2 wait (no EMFILE, no failure) and go on as soon as connections close. */
static void
t_conn_budget(struct ops *o, const struct worker *const ws[4])
{
	struct sess_opts so = { .key = load_key("ed25519"),
				.connect_timeout_ms = 60000,
				.command_timeout_ms = 120000,
				.keepalive_ms = SESS_KEEPALIVE_OFF,
				.max_conns = 2 };
	struct waiter v[4];
	struct sess *s[4];
	struct sess_pool *p;
	struct sess_pool_stats st;
	char *sec[4];
	size_t len[4];

	CHECK(sess_pool_new(loop, &so, &p) == 0);
	memset(v, 0, sizeof(v));
	for (int i = 0; i < 4; i++) {
		s[i] = sess_of(p, ws[i]);
		sec[i] = secret_of(ws[i], &len[i]);
		CHECK(ops_verify(o, s[i], (uint8_t *)sec[i], len[i], on_done, &v[i]) == 0);
	}
	CHECK(uvw_run_until(loop, two_done, v, 120000) == 0);
	CHECK(v[0].outcome == OPS_OK && v[1].outcome == OPS_OK);
	CHECK(!v[2].done && !v[3].done);
	CHECK(strcmp(sess_state(s[2]), "waiting") == 0 && strcmp(sess_state(s[3]), "waiting") == 0);
	sess_close(s[0]);
	sess_close(s[1]);
	wait_all(v + 2, 2);
	CHECK(v[2].outcome == OPS_OK && v[3].outcome == OPS_OK);
	sess_pool_get_stats(p, &st);
	CHECK(st.conns_peak == 2 && st.conn_waits >= 2);
	printf("ok - at most max_conns connections; the others waited and then connected\n");
	sess_pool_free(p);
	for (int i = 0; i < 4; i++)
		free(sec[i]), waiter_reset(&v[i]);
}

static void
t_parallel(struct sess_pool *p, struct ops *o, int n)
{
	struct waiter *v = calloc((size_t)n, sizeof(*v)), *r = calloc((size_t)n, sizeof(*r));
	char **sec = calloc((size_t)n, sizeof(char *));
	size_t len;

	for (int i = 0; i < n; i++) {
		sec[i] = secret_of(&W[i], &len);
		CHECK(ops_verify(o, sess_of(p, &W[i]), (uint8_t *)sec[i], len, on_done, &v[i]) ==
		      0);
	}
	wait_all(v, n);
	for (int i = 0; i < n; i++) {
		if (v[i].outcome != OPS_OK)
			fprintf(stderr, "%s: %d %s\n", W[i].id, v[i].outcome, v[i].error);
		CHECK(v[i].outcome == OPS_OK);
		CHECK(ops_run_probe(o, sess_of(p, &W[i]), NULL, 0, false, on_done, &r[i]) == 0);
	}
	wait_all(r, n);
	for (int i = 0; i < n; i++) {
		CHECK(r[i].outcome == OPS_OK);
		waiter_reset(&v[i]), waiter_reset(&r[i]);
		free(sec[i]);
	}
	printf("ok - %d workers verified and probed in parallel\n", n);
	free(v), free(r), free(sec);
}

int
main(int argc, char **argv)
{
	const char *root_rig, *user_rig;
	char runner[700];
	struct sess_pool *p;
	struct ops *o;
	int nopen = 0, db = -1;

	CHECK(argc == 5);
	rig_py = argv[1], keydir = argv[2], root_rig = argv[3], user_rig = argv[4];
	setvbuf(stdout, NULL, _IOLBF, 0);
	loop = uv_default_loop();
	nw = load_rig(root_rig, W, 128);
	CHECK(load_rig(user_rig, &U, 1) == 1);
	for (int i = 0; i < nw; i++)
		if (strcmp(W[i].kind, "dropbear") == 0)
			db = i;
		else
			nopen++;
	CHECK(db >= 0 && nopen >= 12);
	{ /* rig_py is .../tests/rig/sshd_rig.py: the stub is its sibling */
		char *slash;
		snprintf(runner, sizeof(runner), "%s", rig_py);
		slash = strrchr(runner, '/');
		snprintf(slash + 1, sizeof(runner) - (size_t)(slash + 1 - runner),
			 "stub-crunch-run");
	}

	p = mkpool(load_key("ed25519"), 4000, 4000);
	o = mkops(NULL, NULL);
	t_hostile_uuid(p, o, &W[3]);
	t_all_ops(p, o, &W[0], runner);
	t_all_ops(p, o, &W[db], runner);
	t_all_ops(p, o, &U, NULL);
	{
		char path[700];
		snprintf(path, sizeof(path), "%s/sudo.log", U.state_dir);
		CHECK(count_lines(path, "crunch-run") >= 1);
		printf("ok - non-root user: commands went through sudo\n");
	}
	t_truncation(p, &W[0]);
	t_unsafe_dir(p, o, &W[1], runner);
	t_deploy_symlink(p, o, &W[1], runner);
	{
		const struct worker *ws[8];
		int k = 0;

		for (int i = 13; i < nw && k < 8; i++)
			if (i != db)
				ws[k++] = &W[i];
		CHECK(k == 8);
		t_concurrent_deploy(p, o, ws, k);
	}
	t_bad_secret(p, o, root_rig, &W[2]);
	t_vouched_key(p, o, &W[db == 11 ? 12 : 11], W[4].host_key);
	t_wrong_key(o, &W[4]);
	t_key_types(o, &W[5]);
	t_host_key_change(p, o, root_rig, &W[6]);
	t_frozen(p, o, root_rig, &W[7], &W[9], 3, false);
	t_frozen(p, o, root_rig, &W[8], &W[9], 3, true);
	t_restart(p, root_rig, &W[10]);
	t_refused_until_up(o, root_rig, &W[10]);
	sess_pool_free(p);
	/* the parallel round on a fresh pool: every OpenSSH worker logs in */
	p = mkpool(load_key("ed25519"), 60000, 60000);
	t_parallel(p, o, nopen);
	sess_pool_free(p);
	t_unreachable_first(o, &W[0]);
	t_setup_costs(o, &W[1]);
	{
		const struct worker *const ws[4] = { &W[14], &W[15], &W[16], &W[17] };

		CHECK(nw > 18 && db > 17);
		t_conn_budget(o, ws);
	}
	ops_free(o);
	uv_run(loop, UV_RUN_DEFAULT); /* every handle closes */
	CHECK(uv_loop_close(loop) == 0);
	for (int i = 0; i < nkeys; i++)
		ssh_key_free(keys[i]);
	printf("all passed\n");
	return 0;
}
