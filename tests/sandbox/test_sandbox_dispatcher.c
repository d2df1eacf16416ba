/*
 * test_sandbox_dispatcher.c - the parent's own sandbox (SANDBOX_DISPATCHER), applied in a
 * forked child exactly as boot_sandbox() applies it, then probed from inside.
 *
 * What must be refused: the config file (a config.yml this test writes before the sandbox),
 * any other file under /etc than the listed ones, executing anything but the helpers,
 * ptrace, process_vm_readv, memfd_create, bind, listen() on another socket, anonymous
 * executable memory, a write-open. What must still work: executing the real cloudd and
 * sshd-pool and letting each go through its own start-up and sandbox (the parent restarts
 * them from inside this policy), a TCP connect to loopback, getaddrinfo("localhost"), reading
 * the CA store, an AF_UNIX datagram (sd_notify) and stream (libpq) socket, listen() on the
 * management socket given at apply time, fork.
 *
 * Without Landlock (ABI 0) the filesystem probes cannot pass, and they are skipped with a
 * line saying so; the seccomp probes run everywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "sandbox_internal.h"

static char tmpdir[] = "/tmp/adc-parent-sandbox-XXXXXX";
static char config_path[128];
static char cloudd_path[512], sshpool_path[512];
static int mgmt_fd = -1, other_fd = -1, mgmt_port;

/* Applies the parent's sandbox to this process, then runs probe; never returns. */
static int
run_probe_in_child(int (*probe)(void), bool insecure)
{
	const char *exec[] = { cloudd_path, sshpool_path, NULL };
	struct sandbox_opts o = { .exec_paths = exec,
				  .listen_fd = mgmt_fd,
				  .has_listen_fd = true,
				  .insecure = insecure };

	log_init("test", LOG_FMT_JSON, LOG_LVL_INFO);
	log_set_journal(false);
	if (sandbox_apply(SANDBOX_DISPATCHER, &o) != 0)
		_exit(99);
	_exit(probe());
}

/* Runs probe in a forked child after the parent's sandbox; returns the waitpid status. */
static int
run_probe(int (*probe)(void), bool insecure)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		run_probe_in_child(probe, insecure);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
expect_ok(int (*probe)(void))
{
	int st = run_probe(probe, false);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "probe: status %#x (exit %d, signal %d)\n", st,
			WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
expect_sigsys(int (*probe)(void))
{
	int st = run_probe(probe, false);

	if (!WIFSIGNALED(st))
		fprintf(stderr, "probe not killed: exit %d\n", WEXITSTATUS(st));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static bool
landlock_or_skip(void)
{
	if (sandbox_landlock_abi() > 0)
		return true;
	fprintf(stderr, "SKIPPED: this kernel has no Landlock (ABI 0), so the parent's filesystem "
			"policy cannot be checked here; the seccomp probes still ran\n");
	skip();
	return false;
}

/* ---- probes ---- */

static int
open_errno(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

static int
probe_config_refused(void)
{
	if (open_errno(config_path) != EACCES)
		return 1;
	if (open_errno("/etc/hostname") != EACCES) /* /etc beyond the listed files */
		return 2;
	if (open_errno("/etc/shadow") != EACCES)
		return 3;
	return 0;
}

static int
probe_reads_allowed(void)
{
	if (open_errno("/etc/ssl/certs/ca-certificates.crt") != 0) /* the CA store */
		return 1;
	if (open_errno("/etc/passwd") != 0 || open_errno("/etc/hosts") != 0)
		return 2;
	if (open_errno("/proc/self/stat") != 0) /* the process metrics */
		return 3;
	return 0;
}

static int
probe_exec_other_refused(void)
{
	char *const argv[] = { "/bin/true", NULL };

	execve(argv[0], argv, NULL);
	return errno == EACCES ? 0 : 1;
}

/* A helper executed from inside the policy runs its whole start-up, including its own
 * sandbox (a helper whose sandbox fails exits 1), and only then reads its parent channel
 * (fd 3), finds it closed and exits 0. must: a line its start-up logs (NULL: none). */
static int
run_helper(const char *path, const char *const *args, const char *must)
{
	char out[8192] = "";
	int p[2], status;
	ssize_t n, total = 0;
	pid_t pid;

	int chan[2];

	/* fd 3 is the helper's parent channel: a socketpair whose other end is closed at once,
	 * so the helper, once sandboxed, reads EOF and exits. */
	if (pipe2(p, O_CLOEXEC) != 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan))
		return 10;
	if ((pid = fork()) < 0)
		return 11;
	if (pid == 0) {
		dup2(p[1], 2);
		dup2(p[1], 1);
		dup2(chan[1], 3);
		execv(path, (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	close(chan[0]);
	close(chan[1]);
	while ((n = read(p[0], out + total, sizeof(out) - 1 - (size_t)total)) > 0)
		total += n;
	out[total] = '\0';
	if (waitpid(pid, &status, 0) != pid)
		return 12;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    strstr(out, "sandbox: cannot apply") != NULL || (must && strstr(out, must) == NULL)) {
		fprintf(stderr, "helper %s: status %#x, output:\n%s\n", path, status, out);
		return 13;
	}
	return 0;
}

static int
probe_exec_helpers(void)
{
	const char *ca[] = { cloudd_path, "-driver", "ec2", "-cluster-id", "zzzzz", NULL };
	const char *sa[] = { sshpool_path, "-cluster-id", "zzzzz", NULL };
	int r = run_helper(cloudd_path, ca, "\"msg\":\"CA certificates loaded\"");

	return r != 0 ? r : run_helper(sshpool_path, sa, NULL);
}

static int
probe_network(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)mgmt_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return 1;
	close(fd);
	if (getaddrinfo("localhost", "80", &hints, &res) != 0)
		return 2;
	freeaddrinfo(res);
	/* sd_notify's datagram, libpq's stream socket (the path does not exist: ENOENT). */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 3;
	close(fd);
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/.s.PGSQL.5432", tmpdir);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 4;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0 || errno != ENOENT)
		return 5;
	close(fd);
	if (listen(mgmt_fd, 16) != 0) /* the management socket */
		return 6;
	if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno != EAFNOSUPPORT)
		return 7;
	return 0;
}

/* memfd_create is refused (EPERM, so that libsystemd's large-entry path fails cleanly). */
static int
probe_memfd(void)
{
	return syscall(SYS_memfd_create, "x", 0) < 0 && errno == EPERM ? 0 : 1;
}

static int
probe_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p != MAP_FAILED || errno != EACCES)
		return 1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 || errno != EACCES)
		return 3;
	if (open(config_path, O_WRONLY) >= 0 || errno != EACCES)
		return 4;
	return probe_memfd() == 0 ? 0 : 5;
}

/* Release builds: killed. Sanitizer builds allow ptrace for the helpers' LeakSanitizer
 * check (sandbox_seccomp_dispatcher.c); Landlock must then refuse the test process, which
 * is outside the domain. */
static int
probe_ptrace(void)
{
	long r = ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);

	return r != 0 && errno == EPERM ? 0 : 1;
}

static int
probe_process_vm_readv(void)
{
	char buf[8];
	struct iovec l = { buf, sizeof(buf) }, r = { buf, sizeof(buf) };

	syscall(SYS_process_vm_readv, getppid(), &l, 1, &r, 1, 0);
	return 1;
}

static int
probe_bind(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	return 1;
}

static int
probe_listen_other(void)
{
	listen(other_fd, 16);
	return 1;
}

#ifdef ADC_SANITIZE
static void *volatile leaked;

/* The parent keeps LeakSanitizer's end-of-process check inside its sandbox (sandbox.c): a
 * leak made after the sandbox must still be reported at exit, not end in LSan's "fatal
 * error" (it cannot stop the world). */
static int
probe_leak_reported(void)
{
	leaked = malloc(4096);
	leaked = NULL;
	exit(0);
}
#endif

/* ---- tests ---- */

static void
test_config_unreadable(void **state)
{
	(void)state;
	/* Readable before: the probe's failure is the sandbox's doing. */
	assert_int_equal(open_errno(config_path), 0);
	if (!landlock_or_skip())
		return;
	expect_ok(probe_config_refused);
	/* And without the sandbox (-insecure-no-sandbox) it would be read: the probe fails. */
	int st = run_probe(probe_config_refused, true);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

static void
test_reads_allowed(void **state)
{
	(void)state;
	expect_ok(probe_reads_allowed);
}

static void
test_exec_only_helpers(void **state)
{
	(void)state;
	expect_ok(probe_exec_helpers);
	if (landlock_or_skip())
		expect_ok(probe_exec_other_refused);
}

static void
test_network(void **state)
{
	(void)state;
	expect_ok(probe_network);
}

static void
test_memory(void **state)
{
	(void)state;
	expect_ok(probe_memory);
}

static void
test_killed(void **state)
{
	(void)state;
#ifdef ADC_SANITIZE
	if (landlock_or_skip())
		expect_ok(probe_ptrace);
#else
	expect_sigsys(probe_ptrace);
#endif
	expect_sigsys(probe_process_vm_readv);
	expect_sigsys(probe_bind);
	expect_sigsys(probe_listen_other);
}

#ifdef ADC_SANITIZE
static void
test_leak_check_in_sandbox(void **state)
{
	char out[16384];
	int p[2], st;
	ssize_t n, total = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		st = run_probe_in_child(probe_leak_reported, false);
		_exit(st);
	}
	close(p[1]);
	while (total < (ssize_t)sizeof(out) - 1 &&
	       (n = read(p[0], out + total, sizeof(out) - 1 - (size_t)total)) > 0)
		total += n;
	out[total] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (strstr(out, "detected memory leaks") == NULL || strstr(out, "fatal error") != NULL)
		fprintf(stderr, "%s\n", out);
	assert_non_null(strstr(out, "detected memory leaks"));
	assert_null(strstr(out, "fatal error"));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
}
#endif

static int
tcp_socket(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	if (port != NULL)
		*port = ntohs(sa.sin_port);
	return fd;
}

static int
setup(void **state)
{
	const char *bin = ADC_TEST_BIN_DIR;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	snprintf(config_path, sizeof(config_path), "%s/config.yml", tmpdir);
	f = fopen(config_path, "w");
	assert_non_null(f);
	fputs("Clusters:\n  zzzzz:\n    SystemRootToken: secret\n", f);
	fclose(f);
	snprintf(cloudd_path, sizeof(cloudd_path), "%s/cloudd", bin);
	snprintf(sshpool_path, sizeof(sshpool_path), "%s/sshd-pool", bin);
	assert_int_equal(access(cloudd_path, X_OK), 0);
	assert_int_equal(access(sshpool_path, X_OK), 0);
	mgmt_fd = tcp_socket(&mgmt_port);
	assert_int_equal(listen(mgmt_fd, 16), 0);
	other_fd = tcp_socket(NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(config_path);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_unreadable),
		cmocka_unit_test(test_reads_allowed),
		cmocka_unit_test(test_exec_only_helpers),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_killed),
#ifdef ADC_SANITIZE
		cmocka_unit_test(test_leak_check_in_sandbox),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
