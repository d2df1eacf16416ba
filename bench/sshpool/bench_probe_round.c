/*
 * bench_probe_round.c - issue 16's probe figure: probe rounds over N workers of every kind, with
 * sshd-pool's sess/ops core (the same library, in this process) and its own limits.
 *
 * Usage: bench_probe_round KEY GOOD_RIG_JSON HUNG_RIG_JSON TOTAL BLACKHOLED REFUSED ROUNDS
 *
 * The TOTAL workers are, by kind:
 *   good       the rest: instance ids mapped round-robin onto the dropbear workers of
 *              GOOD_RIG_JSON (each id is its own session, so its own connection and handshake);
 *   hung       one per worker of HUNG_RIG_JSON, whose crunch-run sleeps: the probe is cut at the
 *              command timeout;
 *   refused    REFUSED addresses 127.9.x.y:22 where nothing listens (RST at once);
 *   blackholed BLACKHOLED addresses in ADC_BENCH_BLACKHOLE (default 198.18.0.0/16): the caller
 *              runs this bench in a network namespace of its own where that range is routed to
 *              a dummy device, so every SYN is dropped (the connect timeout);
 *   silent     ADC_BENCH_SILENT addresses 127.8.x.y, where a listener of this process (bound to
 *              every address, never accepting; the caller raises net.core.somaxconn in its
 *              namespace) completes the TCP handshake and nobody ever speaks: the slowest
 *              handshake, one that never starts (the connect timeout);
 *   banner     ADC_BENCH_BANNER_ONLY addresses 127.7.x.y, where a listener of this process
 *              accepts, sends an SSH banner and nothing more: a key exchange that never
 *              completes, holding a handshake slot until the connect timeout.
 * Each round starts a probe of every worker at once (the pool paces them at N / ProbeInterval;
 * all at once is the harder case), as the pool does: verify (connect, handshake, auth, `cat` of
 * the secret) if the session is not verified yet, then `crunch-run --list`. Rounds start
 * ADC_BENCH_INTERVAL_MS apart (default 10000, ProbeInterval). Timeouts: ADC_BENCH_CONNECT_MS,
 * ADC_BENCH_COMMAND_MS (default 5000 each); ADC_BENCH_MAX_CONNECTING (0: sshd-pool's default).
 * Prints "name value" lines; sshpool_bench.py prints them beside the goal.
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_clock.h"
#include "ops.h"
#include "sess.h"
#include "sshpool.h"
#include "uv_wait.h"

enum kind { K_GOOD, K_HUNG, K_REFUSED, K_BLACKHOLE, K_SILENT, K_BANNER, K_N };
static const char *const kind_name[K_N] = { "good",	  "hung",   "refused",
					    "blackholed", "silent", "banner" };

struct wk {
	enum kind kind;
	char id[16], addr[48];
	int port;
	const char *secret;
	size_t secret_len;
	bool verified, probing;
	struct sess *s;
};

struct round {
	double t0;
	int pending, started;
	int ok[K_N], timeout[K_N], failed[K_N], n[K_N];
	double last[K_N];    /* ms after the round's start of the kind's last outcome */
	double first_bad_ms; /* first outcome of a blackholed or hung worker */
	int good_before_bad; /* good probes done before it */
};

static uv_loop_t *loop;
static struct ops *ops;
static struct round rd;
static unsigned fd_peak;
static double lag_last, lag_max; /* the sampler's lateness: how long the loop was busy */

/* A listener on every address (the namespace's 127/8), port chosen by the kernel. */
static int
listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 65535) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("bench: listener");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* The banner-only servers: accept, send a banner, never read; the connections stay open. */
static void
on_banner_accept(uv_poll_t *h, int status, int events)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.2 banner-only\r\n";
	int fd;

	(void)status;
	(void)events;
	while ((fd = accept4(*(int *)h->data, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		if (write(fd, banner, sizeof(banner) - 1) < 0)
			close(fd);
}

static unsigned
fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	while (d && readdir(d) != NULL)
		n++;
	if (d)
		closedir(d);
	return n > 3 ? n - 3 : 0; /* ".", "..", and the directory's own fd */
}

static void
on_fd_sample(uv_timer_t *t)
{
	unsigned n = fds_open();
	double now = now_ms();

	(void)t;
	if (n > fd_peak)
		fd_peak = n;
	if (lag_last > 0 && now - lag_last - 100 > lag_max)
		lag_max = now - lag_last - 100;
	lag_last = now;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = malloc(1 << 20);
	size_t n = f && b ? fread(b, 1, (1 << 20) - 1, f) : 0;

	if (f == NULL || b == NULL) {
		perror(path);
		exit(1);
	}
	fclose(f);
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

static void
outcome(struct wk *w, int o, struct sess_result *r)
{
	double t = now_ms() - rd.t0;
	enum kind k = w->kind;

	w->probing = false;
	rd.pending--;
	if (o == OPS_OK)
		rd.ok[k]++;
	else if (o == -ETIMEDOUT)
		rd.timeout[k]++;
	else
		rd.failed[k]++;
	if (o != OPS_OK && rd.failed[k] + rd.timeout[k] <= 1)
		fprintf(stderr, "bench: first failure of a %s worker (%s %s): %d %s\n",
			kind_name[k], w->id, w->addr, o, r->error);
	if (t > rd.last[k])
		rd.last[k] = t;
	if (k != K_GOOD && k != K_REFUSED && rd.first_bad_ms < 0) {
		rd.first_bad_ms = t;
		rd.good_before_bad = rd.ok[K_GOOD] + rd.failed[K_GOOD] + rd.timeout[K_GOOD];
	}
}

static void
probe_done(int o, struct sess_result *r, void *arg)
{
	outcome(arg, o, r);
}

static void
verify_done(int o, struct sess_result *r, void *arg)
{
	struct wk *w = arg;

	if (o != OPS_OK) {
		outcome(w, o, r);
		return;
	}
	w->verified = true;
	if (ops_run_probe(ops, w->s, NULL, 0, false, probe_done, w) != 0)
		outcome(w, -EPROTO, r);
}

static bool
round_over(void *arg)
{
	(void)arg;
	return rd.pending <= 0;
}

static void
load_rig(const char *path, struct wk *ws, int *n, int max, enum kind kind, int *nrig)
{
	cJSON *d = cJSON_Parse(slurp(path, NULL)), *it;
	int first = *n;

	*nrig = 0;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(d, "workers"))
	{
		struct wk *w = &ws[*n];

		if (*n >= max)
			break;
		w->kind = kind;
		snprintf(w->addr, sizeof(w->addr), "%s",
			 cJSON_GetObjectItem(it, "address")->valuestring);
		w->port = cJSON_GetObjectItem(it, "port")->valueint;
		w->secret = slurp(cJSON_GetObjectItem(it, "secret_file")->valuestring,
				  &w->secret_len);
		(*n)++;
		(*nrig)++;
	}
	(void)first;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 10) : dflt;
}

int
main(int argc, char **argv)
{
	char why[256], *pub;
	struct sess_opts so = { 0 };
	struct sess_pool *p;
	struct ops_conf oc = { .boot_probe_command = "true" };
	struct wk *ws;
	int total, nbh, nref, rounds, n = 0, ngood_rig, nhung;
	uint64_t interval;
	const char *bh = getenv("ADC_BENCH_BLACKHOLE") ? getenv("ADC_BENCH_BLACKHOLE") : "198.18.";
	uv_timer_t sampler;
	uv_poll_t banner_poll;
	long nofile;
	int nsilent = (int)env_u64("ADC_BENCH_SILENT", 0),
	    nbanner = (int)env_u64("ADC_BENCH_BANNER_ONLY", 0);
	int silent_port = 0, banner_port = 0, silent_fd = -1, banner_fd = -1;

	if (argc != 8) {
		fprintf(stderr, "usage: bench_probe_round KEY GOOD_RIG_JSON HUNG_RIG_JSON TOTAL "
				"BLACKHOLED REFUSED ROUNDS\n");
		return 2;
	}
	total = atoi(argv[4]);
	nbh = atoi(argv[5]);
	nref = atoi(argv[6]);
	rounds = atoi(argv[7]);
	interval = env_u64("ADC_BENCH_INTERVAL_MS", 10000);
	if (total < 1 || nbh < 0 || nref < 0 || rounds < 1 ||
	    nbh + nref + nsilent + nbanner > total)
		return 2;
	nofile = sess_raise_nofile(); /* as sshd-pool's main does */
	loop = uv_default_loop();
	if (sshpool_key_load(slurp(argv[1], NULL), &so.key, &pub, why, sizeof(why)) != 0)
		return 1;
	so.connect_timeout_ms = env_u64("ADC_BENCH_CONNECT_MS", 5000);
	so.command_timeout_ms = env_u64("ADC_BENCH_COMMAND_MS", 5000);
	so.max_connecting = (unsigned)env_u64("ADC_BENCH_MAX_CONNECTING", 0);
	so.connect_burst = (unsigned)env_u64("ADC_BENCH_CONNECT_BURST", 0);
	if (sess_pool_new(loop, &so, &p) != 0 || ops_new(&oc, &ops, why, sizeof(why)) != 0)
		return 1;
	if ((ws = calloc((size_t)total + 1024, sizeof(*ws))) == NULL)
		return 1;
	/* The rigs' workers first (good ones are the templates of every good id), then the rest. */
	load_rig(argv[2], ws, &n, total, K_GOOD, &ngood_rig);
	load_rig(argv[3], ws, &n, total, K_HUNG, &nhung);
	for (int i = 0; ngood_rig > 0 && n < total - nbh - nref - nsilent - nbanner; i++, n++) {
		ws[n] = ws[i % ngood_rig];
		ws[n].kind = K_GOOD;
	}
	for (int i = 0; i < nref; i++, n++) {
		ws[n].kind = K_REFUSED;
		ws[n].secret = "unreachable"; /* never read: nothing answers there */
		ws[n].secret_len = strlen(ws[n].secret);
		snprintf(ws[n].addr, sizeof(ws[n].addr), "127.9.%d.%d", i / 250, i % 250 + 1);
		ws[n].port = 22;
	}
	for (int i = 0; i < nbh; i++, n++) {
		ws[n].kind = K_BLACKHOLE;
		ws[n].secret = "unreachable";
		ws[n].secret_len = strlen(ws[n].secret);
		snprintf(ws[n].addr, sizeof(ws[n].addr), "%s%d.%d", bh, i / 250, i % 250 + 1);
		ws[n].port = 22;
	}
	if (nsilent > 0)
		silent_fd = listen_any(&silent_port);
	for (int i = 0; i < nsilent; i++, n++) {
		ws[n].kind = K_SILENT;
		ws[n].secret = "unreachable";
		ws[n].secret_len = strlen(ws[n].secret);
		snprintf(ws[n].addr, sizeof(ws[n].addr), "127.8.%d.%d", i / 250, i % 250 + 1);
		ws[n].port = silent_port;
	}
	if (nbanner > 0) {
		banner_fd = listen_any(&banner_port);
		uv_poll_init(loop, &banner_poll, banner_fd);
		banner_poll.data = &banner_fd;
		uv_poll_start(&banner_poll, UV_READABLE, on_banner_accept);
	}
	for (int i = 0; i < nbanner; i++, n++) {
		ws[n].kind = K_BANNER;
		ws[n].secret = "unreachable";
		ws[n].secret_len = strlen(ws[n].secret);
		snprintf(ws[n].addr, sizeof(ws[n].addr), "127.7.%d.%d", i / 250, i % 250 + 1);
		ws[n].port = banner_port;
	}
	for (int i = 0; i < n; i++) {
		snprintf(ws[i].id, sizeof(ws[i].id), "i-%06d", i);
		if (sess_get(p, ws[i].id, ws[i].addr, ws[i].port, "root", &ws[i].s) != 0) {
			fprintf(stderr, "bench: sess_get %s %s\n", ws[i].id, ws[i].addr);
			return 1;
		}
	}
	{
		int cnt[K_N] = { 0 };

		for (int i = 0; i < n; i++)
			cnt[ws[i].kind]++;
		printf("workers %d\n", n);
		for (int k = 0; k < K_N; k++)
			printf("workers_%s %d\n", kind_name[k], cnt[k]);
		printf("dropbear_workers %d\n", ngood_rig);
	}
	printf("nofile %ld\n", nofile);
	printf("max_conns %u\n", sess_pool_opts(p)->max_conns);
	printf("max_connecting %u\n", sess_pool_opts(p)->max_connecting);
	printf("connect_burst %u\n", sess_pool_opts(p)->connect_burst);
	printf("connect_timeout_ms %llu\n",
	       (unsigned long long)sess_pool_opts(p)->connect_timeout_ms);
	printf("command_timeout_ms %llu\n",
	       (unsigned long long)sess_pool_opts(p)->command_timeout_ms);
	uv_timer_init(loop, &sampler);
	uv_timer_start(&sampler, on_fd_sample, 0, 100);
	for (int r = 0; r < rounds; r++) {
		double start = now_ms(), c0 = cpu_ms(), end;
		int skipped = 0;

		memset(&rd, 0, sizeof(rd));
		rd.first_bad_ms = -1;
		rd.t0 = start;
		for (int i = 0; i < n; i++) {
			struct wk *w = &ws[i];
			int e;

			if (w->probing) { /* the pool skips a worker whose last probe still runs */
				skipped++;
				continue;
			}
			w->probing = true;
			rd.pending++;
			rd.started++;
			rd.n[w->kind]++;
			e = w->verified ? ops_run_probe(ops, w->s, NULL, 0, false, probe_done, w)
					: ops_verify(ops, w->s, (const uint8_t *)w->secret,
						     w->secret_len, verify_done, w);
			if (e != 0) {
				struct sess_result none = { .error = "refused at once" };

				outcome(w, e, &none);
			}
		}
		if (uvw_run_until(loop, round_over, NULL, 600 * 1000) != 0) {
			fprintf(stderr, "bench: round %d: %d probes still pending\n", r,
				rd.pending);
			return 1;
		}
		end = now_ms();
		printf("round%d_ms %.1f\n", r, end - start);
		printf("round%d_cpu_ms %.1f\n", r, cpu_ms() - c0);
		printf("round%d_started %d\n", r, rd.started);
		printf("round%d_skipped %d\n", r, skipped);
		for (int k = 0; k < K_N; k++) {
			printf("round%d_%s %d/%d/%d/%d\n", r, kind_name[k], rd.ok[k], rd.timeout[k],
			       rd.failed[k], rd.n[k]);
			printf("round%d_%s_last_ms %.1f\n", r, kind_name[k], rd.last[k]);
		}
		printf("round%d_first_bad_ms %.1f\n", r, rd.first_bad_ms);
		printf("round%d_loop_lag_max_ms %.1f\n", r, lag_max);
		lag_max = 0;
		printf("round%d_good_before_bad %d\n", r, rd.good_before_bad);
		fflush(stdout);
		if (r + 1 < rounds && end - start < (double)interval) {
			/* Idle until the next ProbeInterval tick: keep-alives and nothing else. */
			uv_timer_t t;

			uv_timer_init(loop, &t);
			uv_timer_start(&t, on_fd_sample,
				       (uint64_t)((double)interval - (end - start)), 0);
			while (uv_is_active((uv_handle_t *)&t))
				uv_run(loop, UV_RUN_ONCE);
			uv_close((uv_handle_t *)&t, NULL);
			uv_run(loop, UV_RUN_NOWAIT);
		}
	}
	{
		struct sess_pool_stats st;
		struct rusage ru;

		sess_pool_get_stats(p, &st);
		getrusage(RUSAGE_SELF, &ru);
		printf("fds_peak %u\n", fd_peak);
		printf("conns_peak %u\n", st.conns_peak);
		printf("handshakes_peak %u\n", st.handshakes_peak);
		printf("slot_waits %u\n", st.slot_waits);
		printf("conn_waits %u\n", st.conn_waits);
		printf("slot_queued_peak %u\n", st.slot_queued_peak);
		printf("maxrss_kib %ld\n", ru.ru_maxrss);
	}
	if (silent_fd >= 0)
		close(silent_fd);
	if (banner_fd >= 0)
		close(banner_fd); /* the process ends: its accepted connections with it */
	return 0;
}
