/*
 * test_sandbox.c - each role's sandbox, applied in a forked child, then probed from inside.
 *
 * Every test forks; the child applies the sandbox and runs one probe, and reports through
 * its exit status (0 = as expected, or death by a signal the parent asserts). The child's
 * stderr goes to a pipe so the parent can check the log lines. Runs as root in CI, so the
 * role users are created with useradd when absent and the uid drop is checked too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <curl/curl.h>

#include "log.h"
#include "sandbox_internal.h"

struct child {
	enum sandbox_role role;
	struct sandbox_opts opts;
	struct sandbox_test_hooks hooks;
	int (*probe)(void *arg);
	void *arg;
	int status;	/* waitpid status */
	int apply_rc;	/* sandbox_apply's return, when the probe is not reached */
	char err[8192]; /* the child's stderr */
};

static int status_fd = -1; /* /proc/self/status, opened before the sandbox */
static int listen_port;
static int listen_fd = -1;

/* Exit codes from the child: 0 ok, 100 + n probe failure n, 99 sandbox_apply failed. */
static void
child_main(struct child *c, int errpipe)
{
	int r;

	dup2(errpipe, 2);
	log_init("test", LOG_FMT_JSON, LOG_LVL_INFO);
	log_set_journal(false);
	status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	r = sandbox_apply_hooked(c->role, &c->opts, &c->hooks);
	if (r != 0) {
		fprintf(stderr, "apply_rc=%d\n", r);
		_exit(99);
	}
	_exit(c->probe ? c->probe(c->arg) : 0);
}

static void
run_child(struct child *c)
{
	int p[2];
	pid_t pid;
	ssize_t n, total = 0;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_main(c, p[1]);
	}
	close(p[1]);
	while ((n = read(p[0], c->err + total, sizeof(c->err) - 1 - (size_t)total)) > 0)
		total += n;
	c->err[total] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &c->status, 0), pid);
	c->apply_rc = 0;
	if (strstr(c->err, "apply_rc=") != NULL)
		c->apply_rc = atoi(strstr(c->err, "apply_rc=") + 9);
}

static void
expect_exit0(struct child *c)
{
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
		fprintf(stderr, "child status %#x (exit %d, signal %d), stderr:\n%s\n", c->status,
			WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1,
			WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0, c->err);
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 0);
}

static void
run_ok(enum sandbox_role role, int (*probe)(void *), void *arg)
{
	struct child c = { .role = role, .probe = probe, .arg = arg };

	run_child(&c);
	expect_exit0(&c);
}

/* ---- probes (run inside the sandbox) ---- */

static int
probe_execve(void *arg)
{
	char *const argv[] = { "/bin/true", NULL };

	(void)arg;
	execve("/bin/true", argv, NULL);
	return 1; /* not killed: wrong */
}

static int
probe_open_passwd_refused(void *arg)
{
	int fd = open("/etc/passwd", O_RDONLY);

	(void)arg;
	if (fd >= 0)
		return 101;
	return errno == EACCES ? 0 : 102;
}

static int
probe_open_hosts_ok(void *arg)
{
	int fd = open("/etc/hosts", O_RDONLY);

	(void)arg;
	if (fd < 0)
		return 101;
	close(fd);
	/* write-open refused by seccomp (EACCES) even where Landlock would decide */
	if (open("/etc/hosts", O_WRONLY) >= 0 || errno != EACCES)
		return 102;
	return 0;
}

static int
probe_status(void *arg)
{
	char buf[4096];
	ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0);

	(void)arg;
	if (n <= 0)
		return 101;
	buf[n] = '\0';
	if (strstr(buf, "\nNoNewPrivs:\t1\n") == NULL)
		return 102;
	if (strstr(buf, "\nSeccomp:\t2\n") == NULL)
		return 103;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 104;
	return 0;
}

static int
probe_netlink_refused(void *arg)
{
	(void)arg;
	if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0)
		return 101;
	if (errno != EAFNOSUPPORT)
		return 102;
	if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0) /* e.g. nscd's socket, D-Bus */
		return 103;
	return 0;
}

static int
probe_mmap_exec_refused(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *q;

	(void)arg;
	if (p != MAP_FAILED || errno != EACCES)
		return 101;
	q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return 102;
	if (mprotect(q, 4096, PROT_READ | PROT_EXEC) == 0 || errno != EACCES)
		return 103;
	munmap(q, 4096);
	return 0;
}

static int
probe_tcp_connect(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)listen_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)arg;
	if (fd < 0)
		return 101;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 102;
	if (write(fd, "x", 1) != 1)
		return 103;
	close(fd);
	return 0;
}

static int
probe_getaddrinfo(void *arg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;

	(void)arg;
	if (getaddrinfo("localhost", "443", &hints, &res) != 0 || res == NULL)
		return 101;
	freeaddrinfo(res);
	return 0;
}

struct uv_probe {
	int timer_fired, poll_fired, work_done;
	uv_timer_t timer;
	uv_poll_t poll;
	uv_work_t work;
	int sv[2];
};

static void
uv_probe_timer(uv_timer_t *t)
{
	struct uv_probe *u = t->data;

	u->timer_fired++;
	if (write(u->sv[1], "p", 1) != 1)
		abort();
}

static void
uv_probe_poll(uv_poll_t *h, int status, int events)
{
	struct uv_probe *u = h->data;
	char ch;

	if (status == 0 && (events & UV_READABLE) && read(u->sv[0], &ch, 1) == 1 && ch == 'p')
		u->poll_fired++;
	uv_poll_stop(h);
	uv_close((uv_handle_t *)h, NULL);
	uv_close((uv_handle_t *)&u->timer, NULL);
}

static void
uv_probe_work(uv_work_t *w)
{
	(void)w; /* runs on a libuv pool thread: thread creation is allowed */
}

static void
uv_probe_work_done(uv_work_t *w, int status)
{
	struct uv_probe *u = w->data;

	if (status == 0)
		u->work_done++;
}

static int
probe_libuv(void *arg)
{
	struct uv_probe u = { 0 };
	uv_loop_t loop;

	(void)arg;
	if (uv_loop_init(&loop) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u.sv) != 0)
		return 101;
	u.timer.data = u.poll.data = u.work.data = &u;
	uv_timer_init(&loop, &u.timer);
	uv_timer_start(&u.timer, uv_probe_timer, 5, 0);
	uv_poll_init(&loop, &u.poll, u.sv[0]);
	uv_poll_start(&u.poll, UV_READABLE, uv_probe_poll);
	uv_queue_work(&loop, &u.work, uv_probe_work, uv_probe_work_done);
	if (uv_run(&loop, UV_RUN_DEFAULT) != 0)
		return 102;
	if (u.timer_fired != 1 || u.poll_fired != 1 || u.work_done != 1)
		return 103;
	return uv_loop_close(&loop) == 0 ? 0 : 104;
}

static int
probe_uid(void *arg)
{
	const uid_t *want = arg;

	/* (setuid() itself is not in the filter; sandbox_apply checked it cannot regain 0) */
	if (getuid() != *want || geteuid() != *want)
		return 101;
	if (getgid() == 0 || getegid() == 0)
		return 102;
	return 0;
}

/* ---- tests ---- */

/* Under the lock tests/support/system_users.py takes (USERS_LOCK): other tests may be creating
 * the same user at the same moment, and a second useradd of a name fails. */
static void
ensure_user(const char *name)
{
	char cmd[512];

	if (getpwnam(name) != NULL)
		return;
	snprintf(cmd, sizeof(cmd),
		 "flock /tmp/adc-test-users.lock sh -c 'getent passwd %s >/dev/null || "
		 "useradd --system --no-create-home --shell /usr/sbin/nologin --user-group %s'",
		 name, name);
	assert_int_equal(system(cmd), 0);
	assert_non_null(getpwnam(name));
}

/* A fresh TCP listener on 127.0.0.1 (port chosen by the kernel) in listen_fd/listen_port. */
static void
make_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(listen_fd >= 0);
	assert_int_equal(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(listen_fd, 64), 0);
	assert_int_equal(getsockname(listen_fd, (struct sockaddr *)&sa, &len), 0);
	listen_port = ntohs(sa.sin_port);
}

static int
setup(void **state)
{
	(void)state;
	if (geteuid() == 0) {
		ensure_user("arvados-cloudd");
		ensure_user("arvados-sshd-pool");
	}
	make_listener();
	return 0;
}

static void
test_landlock_present(void **state)
{
	(void)state;
	/* This machine's kernel has Landlock; a 0 here would make every test below moot. */
	assert_true(sandbox_landlock_abi() >= 1);
}

static void
test_cloudd_execve_killed(void **state)
{
	struct child c = { .role = SANDBOX_CLOUDD, .probe = probe_execve };

	(void)state;
	run_child(&c);
	assert_true(WIFSIGNALED(c.status));
	assert_int_equal(WTERMSIG(c.status), SIGSYS);
	c.role = SANDBOX_SSHD_POOL;
	run_child(&c);
	assert_true(WIFSIGNALED(c.status));
	assert_int_equal(WTERMSIG(c.status), SIGSYS);
}

static void
test_sshd_pool_no_files(void **state)
{
	(void)state;
	run_ok(SANDBOX_SSHD_POOL, probe_open_passwd_refused, NULL);
}

static void
test_cloudd_files(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_open_passwd_refused, NULL);
	run_ok(SANDBOX_CLOUDD, probe_open_hosts_ok, NULL);
}

static void
test_status_flags(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_status, NULL);
	run_ok(SANDBOX_SSHD_POOL, probe_status, NULL);
}

static void
test_netlink_refused(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_netlink_refused, NULL);
	run_ok(SANDBOX_SSHD_POOL, probe_netlink_refused, NULL);
}

static void
test_mmap_exec_refused(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_mmap_exec_refused, NULL);
	run_ok(SANDBOX_SSHD_POOL, probe_mmap_exec_refused, NULL);
}

static void
test_tcp_connect(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_tcp_connect, NULL);
	run_ok(SANDBOX_SSHD_POOL, probe_tcp_connect, NULL);
}

static void
test_libuv(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_libuv, NULL);
	run_ok(SANDBOX_SSHD_POOL, probe_libuv, NULL);
}

static void
test_getaddrinfo(void **state)
{
	(void)state;
	run_ok(SANDBOX_CLOUDD, probe_getaddrinfo, NULL);
}

static void
test_user_drop(void **state)
{
	uid_t cu, su;

	(void)state;
	if (geteuid() != 0) {
		/* Not root: nothing to drop; the CI run is root and checks the real thing. */
		print_message("not root: uid drop not exercised\n");
		return;
	}
	cu = getpwnam("arvados-cloudd")->pw_uid;
	su = getpwnam("arvados-sshd-pool")->pw_uid;
	run_ok(SANDBOX_CLOUDD, probe_uid, &cu);
	run_ok(SANDBOX_SSHD_POOL, probe_uid, &su);
}

static void
test_missing_user(void **state)
{
	struct child c = { .role = SANDBOX_SSHD_POOL, .opts.user = "adc-no-such-user" };

	(void)state;
	if (geteuid() != 0)
		return;
	run_child(&c);
	assert_int_equal(WEXITSTATUS(c.status), 99);
	assert_int_equal(c.apply_rc, -ENOENT);
	assert_non_null(strstr(c.err, "adc-no-such-user"));
	assert_non_null(strstr(c.err, "-sshd-pool-user"));
	c.role = SANDBOX_CLOUDD;
	run_child(&c);
	assert_non_null(strstr(c.err, "-cloudd-user"));
}

/* Without Landlock the other layers still hold: seccomp filter and no_new_privs. */
static int
probe_other_layers(void *arg)
{
	char buf[4096];
	ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0);

	(void)arg;
	if (n <= 0)
		return 101;
	buf[n] = '\0';
	if (strstr(buf, "\nSeccomp:\t2\n") == NULL)
		return 102;
	return strstr(buf, "\nNoNewPrivs:\t1\n") != NULL ? 0 : 103;
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* A kernel without Landlock (the hook): start with the other layers and one warning naming
 * the layer; with require_landlock, refuse to start. */
static void
test_no_landlock_warns_or_refuses(void **state)
{
	enum sandbox_role roles[] = { SANDBOX_CLOUDD, SANDBOX_SSHD_POOL };

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++) {
		struct child c = { .role = roles[i],
				   .hooks.fail_landlock = true,
				   .probe = probe_other_layers };

		run_child(&c);
		expect_exit0(&c);
		assert_int_equal(count_of(c.err, "\"level\":\"warn\",\"msg\":\"sandbox: kernel has "
						 "no Landlock; running without its filesystem "
						 "restrictions\""),
				 1);
		assert_int_equal(count_of(c.err, "\"layer\":\"landlock\""), 1);
		assert_null(strstr(c.err, "refusing to start"));

		c = (struct child){ .role = roles[i],
				    .opts.require_landlock = true,
				    .hooks.fail_landlock = true,
				    .probe = probe_other_layers };
		run_child(&c);
		assert_int_equal(WEXITSTATUS(c.status), 99);
		assert_true(c.apply_rc < 0);
		assert_non_null(strstr(c.err, "\"level\":\"error\",\"msg\":\"sandbox: cannot "
					      "apply, refusing to start\""));
		assert_non_null(strstr(c.err, "-require-landlock"));
	}
}

static void
test_refuses_without_sandbox(void **state)
{
	struct child c = { .role = SANDBOX_SSHD_POOL, .hooks.fail_seccomp = true };

	(void)state;
	run_child(&c);
	assert_int_equal(WEXITSTATUS(c.status), 99);
	assert_non_null(strstr(c.err, "\"step\":\"seccomp\""));
}

static int
probe_no_seccomp(void *arg)
{
	char buf[4096];
	ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0);

	(void)arg;
	if (n <= 0)
		return 101;
	buf[n] = '\0';
	return strstr(buf, "\nSeccomp:\t0\n") != NULL ? 0 : 102;
}

static void
test_insecure_is_loud(void **state)
{
	struct child c = { .role = SANDBOX_SSHD_POOL,
			   .opts.insecure = true,
			   .hooks.fail_landlock = true,
			   .probe = probe_no_seccomp };

	(void)state;
	run_child(&c);
	expect_exit0(&c);
	assert_non_null(strstr(c.err, "\"level\":\"error\",\"msg\":\"sandbox disabled by "
				      "-insecure-no-sandbox\""));
}

static void
test_child_early(void **state)
{
	int keep = open("/dev/null", O_RDONLY), drop = open("/dev/null", O_RDONLY), status;
	int high = dup2(keep, 200);
	pid_t pid;

	(void)state;
	assert_true(keep > 2 && drop > 2 && high == 200);
	pid = fork();
	if (pid == 0) {
		int kept[] = { keep };
		char name[32] = "";
		int sig = 0;

		if (sandbox_child_early("adc-test-early", kept, 1) != 0)
			_exit(101);
		if (fcntl(keep, F_GETFD) < 0)
			_exit(102);
		if (fcntl(drop, F_GETFD) >= 0 || fcntl(200, F_GETFD) >= 0)
			_exit(103);
		prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
		prctl(PR_GET_NAME, name, 0, 0, 0);
		_exit(sig == SIGKILL && strcmp(name, "adc-test-early") == 0 ? 0 : 104);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(keep);
	close(drop);
	close(high);
}

#ifdef ADC_SANITIZE
static int
probe_heap_overflow(void *arg)
{
	volatile char *p = malloc(8);

	(void)arg;
	p[8] = 'x'; /* ASan must report this from inside the sandbox */
	free((void *)p);
	return 0;
}

/* The sanitizer runtime's error path (report, /proc/self/maps, exit) works in the sandbox:
 * the child exits with ASan's status and the report reaches stderr, instead of SIGSYS. */
static void
test_asan_report_in_sandbox(void **state)
{
	struct child c = { .role = SANDBOX_SSHD_POOL, .probe = probe_heap_overflow };

	(void)state;
	run_child(&c);
	if (!WIFEXITED(c.status) || strstr(c.err, "AddressSanitizer: heap-buffer-overflow") == NULL)
		fprintf(stderr, "child status %#x, stderr:\n%s\n", c.status, c.err);
	assert_true(WIFEXITED(c.status));
	assert_int_not_equal(WEXITSTATUS(c.status), 0);
	assert_non_null(strstr(c.err, "AddressSanitizer: heap-buffer-overflow"));
}
#endif

static size_t
curl_sink(char *p, size_t sz, size_t n, void *ud)
{
	strncat(ud, p, sz * n < 64 ? sz * n : 64);
	return sz * n;
}

/* libcurl (OpenSSL build, threaded resolver) fetching from a loopback HTTP server by name:
 * resolver thread, socketpair wake-ups, non-blocking connect, poll. */
static int
probe_curl(void *arg)
{
	char url[64], body[128] = "";
	CURL *c = curl_easy_init();
	long code = 0;

	(void)arg;
	snprintf(url, sizeof(url), "http://localhost:%d/", listen_port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) != CURLE_OK)
		return 101;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code == 200 && strcmp(body, "sandboxed") == 0 ? 0 : 102;
}

static void
test_curl_in_cloudd(void **state)
{
	static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nsandboxed";
	pid_t srv;
	int status;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before the sandbox, as cloudd does */
	make_listener();
	srv = fork();
	if (srv == 0) {
		char req[4096];
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0 || read(fd, req, sizeof(req)) <= 0 ||
		    write(fd, resp, sizeof(resp) - 1) < 0)
			_exit(1);
		close(fd);
		_exit(0);
	}
	run_ok(SANDBOX_CLOUDD, probe_curl, NULL);
	assert_int_equal(waitpid(srv, &status, 0), srv);
}

static void
test_default_users(void **state)
{
	(void)state;
	assert_string_equal(sandbox_default_user(SANDBOX_CLOUDD), "arvados-cloudd");
	assert_string_equal(sandbox_default_user(SANDBOX_SSHD_POOL), "arvados-sshd-pool");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_landlock_present),
		cmocka_unit_test(test_default_users),
		cmocka_unit_test(test_child_early),
		cmocka_unit_test(test_cloudd_execve_killed),
		cmocka_unit_test(test_sshd_pool_no_files),
		cmocka_unit_test(test_cloudd_files),
		cmocka_unit_test(test_status_flags),
		cmocka_unit_test(test_netlink_refused),
		cmocka_unit_test(test_mmap_exec_refused),
		cmocka_unit_test(test_tcp_connect),
		cmocka_unit_test(test_libuv),
		cmocka_unit_test(test_getaddrinfo),
		cmocka_unit_test(test_user_drop),
		cmocka_unit_test(test_missing_user),
		cmocka_unit_test(test_refuses_without_sandbox),
		cmocka_unit_test(test_no_landlock_warns_or_refuses),
		cmocka_unit_test(test_insecure_is_loud),
		cmocka_unit_test(test_curl_in_cloudd),
#ifdef ADC_SANITIZE
		cmocka_unit_test(test_asan_report_in_sandbox),
#endif
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
