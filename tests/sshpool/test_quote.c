/* test_quote.c - validation patterns, single-quoting (checked through a real /bin/sh), and the
 * exact command lines of the typed operations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops.h"
#include "proto_ssh.h"
#include "quote.h"

static void
test_uuid(void **st)
{
	(void)st;
	assert_true(proto_ssh_valid_uuid("zzzzz-dz642-0123456789abcde"));
	assert_false(proto_ssh_valid_uuid("zzzzz-dz642-0123456789abcd"));
	assert_false(proto_ssh_valid_uuid("zzzzz-dz642-0123456789abcdef"));
	assert_false(proto_ssh_valid_uuid("ZZZZZ-dz642-0123456789abcde"));
	assert_false(proto_ssh_valid_uuid("zzzzz-j7d0g-0123456789abcde"));
	assert_false(proto_ssh_valid_uuid("zzzzz-dz642-0123456789abc;d"));
	assert_false(proto_ssh_valid_uuid("zzzzz-dz642-01234567$(id)e"));
	assert_false(proto_ssh_valid_uuid("zzzzz-dz642-0123456789ab e"));
	assert_false(proto_ssh_valid_uuid("zzzzz-dz642-0123456789abcd\n"));
	assert_false(proto_ssh_valid_uuid("zzzz;-dz642-0123456789abcde"));
	assert_false(proto_ssh_valid_uuid(""));
	assert_false(proto_ssh_valid_uuid(NULL));
}

static void
test_small_patterns(void **st)
{
	(void)st;
	assert_true(quote_valid_signal(1) && quote_valid_signal(15) && quote_valid_signal(64));
	assert_false(quote_valid_signal(0) || quote_valid_signal(65) || quote_valid_signal(-9));
	assert_true(quote_valid_md5("0123456789abcdef0123456789abcdef"));
	assert_false(quote_valid_md5("0123456789ABCDEF0123456789abcdef"));
	assert_false(quote_valid_md5("0123456789abcdef0123456789abcde"));
	assert_false(quote_valid_md5("0123456789abcdef0123456789abcde;"));
	assert_true(quote_valid_user("root") && quote_valid_user("adc-rig") &&
		    quote_valid_user("_x1"));
	assert_false(quote_valid_user("Root") || quote_valid_user("a b") ||
		     quote_valid_user("-x") || quote_valid_user("x;id") || quote_valid_user("") ||
		     quote_valid_user("$USER"));
	assert_true(quote_valid_engine("docker") && quote_valid_engine("singularity"));
	assert_false(quote_valid_engine("docker;id") || quote_valid_engine("-x") ||
		     quote_valid_engine(""));
	assert_true(quote_valid_address("127.0.1.5") && quote_valid_address("::1"));
	assert_false(quote_valid_address("localhost") || quote_valid_address("1.2.3.4;id") ||
		     quote_valid_address(""));
}

static void
test_paths(void **st)
{
	(void)st;
	assert_true(quote_valid_path("/tmp/arvados-crunch-run"));
	assert_true(quote_valid_path("/usr/local/bin/crunch-run_2.0+x"));
	assert_false(quote_valid_path("/"));
	assert_false(quote_valid_path("tmp/x"));
	assert_false(quote_valid_path("/tmp/../etc"));
	assert_false(quote_valid_path("/tmp/./x"));
	assert_false(quote_valid_path("/tmp//x"));
	assert_false(quote_valid_path("/tmp/x/"));
	assert_false(quote_valid_path("/tmp/x y"));
	assert_false(quote_valid_path("/tmp/$(id)"));
	assert_false(quote_valid_path("/tmp/`id`"));
	assert_false(quote_valid_path("/tmp/x;id"));
	assert_false(quote_valid_path("/tmp/~x"));
	assert_false(quote_valid_path("/tmp/a=b"));
	assert_false(quote_valid_path("/tmp/x\n"));
	assert_true(quote_valid_command("crunch-run"));
	assert_true(quote_valid_command(
		"/tmp/arvados-crunch-run/crunch-run~0123456789abcdef0123456789abcdef"));
	assert_false(quote_valid_command("/tmp/~crunch-run"));
	assert_false(quote_valid_command("-crunch-run"));
	assert_false(quote_valid_command("FOO=1"));
	assert_false(quote_valid_command("crunch-run --list"));
	assert_false(quote_valid_command("~root/x"));
	assert_false(quote_valid_command(""));
}

/* Run `sh -c 'printf %s <quoted>'` and compare its output with the original bytes. */
static void
shell_roundtrip(const char *arg)
{
	char *q = quote_arg(arg), *cmd, out[4096];
	int pfd[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	assert_non_null(q);
	assert_true(asprintf(&cmd, "printf %%s %s", q) > 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	out[n] = '\0';
	assert_int_equal(n, strlen(arg));
	assert_string_equal(out, arg);
	free(q);
	free(cmd);
}

static void
test_quote_hostile(void **st)
{
	static const char *const hostile[] = {
		"plain",
		"",
		"it's",
		"'",
		"''",
		"'\\''",
		"a'; touch /tmp/adc-pwned; echo '",
		"$(touch /tmp/adc-pwned)",
		"`touch /tmp/adc-pwned`",
		"${HOME}",
		"a\nb",
		"\\",
		"\\'",
		"*",
		"~",
		"!x",
		"a b\tc",
		"--runtime-engine=docker",
		"\"\"'\"'",
		"%s%n",
	};

	(void)st;
	unlink("/tmp/adc-pwned");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		shell_roundtrip(hostile[i]);
	assert_int_equal(access("/tmp/adc-pwned", F_OK), -1);
	char *q = quote_arg("it's");

	assert_string_equal(q, "'it'\\''s'");
	free(q);
}

static void
test_quote_limits(void **st)
{
	struct quote_buf b;
	char *big = malloc(QUOTE_MAX_CMD + 1);
	int err = 0;

	(void)st;
	memset(big, 'x', QUOTE_MAX_CMD);
	big[QUOTE_MAX_CMD] = '\0';
	quote_buf_init(&b);
	quote_buf_arg(&b, big);
	assert_null(quote_buf_take(&b, &err));
	assert_int_equal(err, -E2BIG);
	assert_false(quote_valid_arg(big));
	free(big);
}

static struct ops *
mkops(const char *hash, const char *const *args, size_t nargs)
{
	struct ops_conf c = { .runner_hash = hash,
			      .crunch_run_args = args,
			      .ncrunch_run_args = nargs };
	struct ops *o = NULL;
	char why[200];

	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), 0);
	return o;
}

static void
test_command_lines(void **st)
{
	static const char *const args[] = { "--cgroup-parent-subsystem=cpuset", "it's" };
	const char *u = "zzzzz-dz642-0123456789abcde";
	struct ops *o = mkops(NULL, args, 2);
	char *c;
	int err = 0;

	(void)st;
	assert_string_equal(c = ops_cmd_verify("root", &err),
			    "cat /var/run/arvados-instance-secret");
	free(c);
	assert_string_equal(c = ops_cmd_verify("admin", &err),
			    "sudo cat /var/run/arvados-instance-secret");
	free(c);
	assert_string_equal(c = ops_cmd_run_probe(o, "root", 0, &err), "crunch-run --list");
	free(c);
	assert_string_equal(c = ops_cmd_run_probe(o, "admin", 1, &err),
			    "sudo crunch-run --list --stdin-prices");
	free(c);
	assert_string_equal(
		c = ops_cmd_start(o, "root", u, &err),
		"crunch-run --detach --stdin-config '--runtime-engine=docker' "
		"'--cgroup-parent-subsystem=cpuset' 'it'\\''s' 'zzzzz-dz642-0123456789abcde'");
	free(c);
	assert_string_equal(c = ops_cmd_kill(o, "admin", u, 15, &err),
			    "sudo crunch-run --kill 15 'zzzzz-dz642-0123456789abcde'");
	free(c);
	assert_null(ops_cmd_kill(o, "root", "zzzzz-dz642-0123456789abc;d", 15, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ops_cmd_kill(o, "root", u, 0, &err));
	assert_null(ops_cmd_start(o, "root", "$(reboot)", &err));
	ops_free(o);

	o = mkops("0123456789abcdef0123456789abcdef", NULL, 0);
	assert_string_equal(ops_runner(o),
			    "/tmp/arvados-crunch-run/crunch-run~0123456789abcdef0123456789abcdef");
	assert_non_null(
		c = ops_cmd_deploy_install(o, "root", "0123456789abcdef0123456789abcdef", &err));
	assert_non_null(
		strstr(c, "set -e; dstdir=\"/tmp/arvados-crunch-run/\"; dstfile=\"/tmp/arvados-"
			  "crunch-run/crunch-run~0123456789abcdef0123456789abcdef\"; mkdir -p "
			  "\"$dstdir\"; touch \"$dstfile\"; "));
	assert_non_null(strstr(c, "chmod 0755 \"$dstdir\" \"$dstfile\"; cat >\"$dstfile\""));
	free(c);
	assert_non_null(
		c = ops_cmd_deploy_install(o, "admin", "0123456789abcdef0123456789abcdef", &err));
	assert_int_equal(strncmp(c, "sudo sh -c 'set -e; ", 20), 0);
	free(c);
	assert_null(ops_cmd_deploy_check(o, "root", "0123", &err));
	ops_free(o);
}

static void
test_bad_conf(void **st)
{
	struct ops_conf c = { .crunch_run_command = "crunch-run; reboot" };
	struct ops *o = NULL;
	char why[200];

	(void)st;
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "CrunchRunCommand"));
	c = (struct ops_conf){ .deploy_dir = "/tmp/x y" };
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), -EINVAL);
	c = (struct ops_conf){ .runtime_engine = "docker --privileged" };
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), -EINVAL);
	c = (struct ops_conf){ .runner_hash = "../../etc/passwd" };
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid),	     cmocka_unit_test(test_small_patterns),
		cmocka_unit_test(test_paths),	     cmocka_unit_test(test_quote_hostile),
		cmocka_unit_test(test_quote_limits), cmocka_unit_test(test_command_lines),
		cmocka_unit_test(test_bad_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
