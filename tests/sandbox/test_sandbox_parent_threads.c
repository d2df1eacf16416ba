/*
 * test_sandbox_parent_threads.c - the parent's one-thread check (app/boot_sandbox.c).
 *
 * Landlock confines the calling thread and what it creates afterwards, never a thread that
 * already runs; so boot_sandbox() must refuse, with one fatal line, when another thread
 * exists at that point (docs/SANDBOX.md, "The parent"). This runs the real boot_sandbox(),
 * in a forked child (fork leaves one thread), with a real second pthread started there:
 * the call must fail, log the refusal, and leave the process unconfined (NoNewPrivs: 0).
 * The control case, the same call with no second thread, must sandbox the child: so a
 * refusal is the check's doing, not a broken set-up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatcher_internal.h"
#include "log.h"

static char tmpdir[] = "/tmp/adc-parent-threads-XXXXXX";

/* "Name:" from /proc/self/status, or -1. */
static long
status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t len = strlen(name);
	long v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static void *
blocked_thread(void *fd)
{
	char c;

	/* Stays until the child exits: its pipe's write end is never written. */
	if (read(*(int *)fd, &c, 1) < 0)
		return NULL;
	return NULL;
}

/* In the forked child: boot_sandbox() as dispatcher_run calls it, with an ec2 driver (the
 * loopback driver skips the sandbox). Exit status: 0 refused and unconfined, 1 sandboxed,
 * 2 set-up failure, 3 refused but confined anyway, 4 neither. */
static void
child(bool extra_thread, const char *log_path)
{
	static struct cfg_cluster cfg;
	static struct cli_opts opts;
	static struct dispatcher d;
	char config[256];
	pthread_t t;
	int p[2];

	if (freopen(log_path, "w", stderr) == NULL)
		_exit(2);
	snprintf(config, sizeof(config), "%s/config.yml", tmpdir);
	cfg.containers.cloudvms.driver = "ec2";
	opts.config_path = config;
	d.cfg = &cfg;
	d.opts = &opts;
	d.listen.fd = -1;
	snprintf(d.cloudd_path, sizeof(d.cloudd_path), "%s/cloudd", ADC_TEST_BIN_DIR);
	snprintf(d.sshpool_path, sizeof(d.sshpool_path), "%s/sshd-pool", ADC_TEST_BIN_DIR);
	log_init("dispatcher", LOG_FMT_JSON, LOG_LVL_INFO);
	log_set_journal(false);
	if (extra_thread) {
		if (pipe(p) != 0 || pthread_create(&t, NULL, blocked_thread, &p[0]) != 0)
			_exit(2);
		if (status_field("Threads") != 2)
			_exit(2);
	}
	int r = boot_sandbox(&d);
	long nnp = status_field("NoNewPrivs");

	fflush(stderr);
	if (r == 0 && nnp == 1)
		_exit(1);
	if (r < 0)
		_exit(nnp == 0 ? 0 : 3);
	_exit(4);
}

/* Runs child() in a fork; returns its exit status (or 100 + signal) and its log in out. */
static int
run(bool extra_thread, char *out, size_t len)
{
	char path[256];
	int status, fd;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/log-%d", tmpdir, extra_thread);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(extra_thread, path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, out, len - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "boot_sandbox (%s): status %#x, log:\n%s",
		extra_thread ? "two threads" : "one thread", status, out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static int
lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_refuses_with_another_thread(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(run(true, log, sizeof(log)), 0);
	assert_non_null(strstr(log, "\"level\":\"fatal\""));
	assert_non_null(strstr(log, "cannot sandbox the dispatcher: another thread already runs "
				    "(Landlock would not confine it)"));
	assert_non_null(strstr(log, "\"Threads\":2"));
	assert_int_equal(lines(log), 1);
}

static void
test_sandboxes_when_alone(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(run(false, log, sizeof(log)), 1);
	assert_null(strstr(log, "another thread"));
	assert_non_null(strstr(log, "sandbox: the dispatcher confined itself"));
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char path[256];

	(void)state;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/log-%d", tmpdir, i);
		unlink(path);
	}
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_with_another_thread),
		cmocka_unit_test(test_sandboxes_when_alone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
