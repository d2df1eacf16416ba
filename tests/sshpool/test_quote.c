/* test_quote.c - validation patterns, single-quoting (checked through a real /bin/sh), and the
 * exact command lines of the typed operations. */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "container_uuid.h"
#include "ops.h"
#include "proto_ssh.h"
#include "quote.h"

static void
test_uuid(void **st)
{
	(void)st;
	assert_true(container_uuid_valid("zzzzz-dz642-0123456789abcde"));
	assert_false(container_uuid_valid("zzzzz-dz642-0123456789abcd"));
	assert_false(container_uuid_valid("zzzzz-dz642-0123456789abcdef"));
	assert_false(container_uuid_valid("ZZZZZ-dz642-0123456789abcde"));
	assert_false(container_uuid_valid("zzzzz-j7d0g-0123456789abcde"));
	assert_false(container_uuid_valid("zzzzz-dz642-0123456789abc;d"));
	assert_false(container_uuid_valid("zzzzz-dz642-01234567$(id)e"));
	assert_false(container_uuid_valid("zzzzz-dz642-0123456789ab e"));
	assert_false(container_uuid_valid("zzzzz-dz642-0123456789abcd\n"));
	assert_false(container_uuid_valid("zzzz;-dz642-0123456789abcde"));
	assert_false(container_uuid_valid(""));
	assert_false(container_uuid_valid(NULL));
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

/* -deadman-timeout: the run probe touches the heartbeat in the same command (no extra SSH
 * command per round), with sudo when the user is not root; crunch-run's status and output stay
 * the probe's (";"), and the prices still go to crunch-run's stdin. */
static void
test_run_probe_heartbeat(void **st)
{
	struct ops_conf conf = { .heartbeat = true };
	struct ops *o = NULL;
	char why[200], *c;
	int err = 0;

	(void)st;
	assert_int_equal(ops_new(&conf, &o, why, sizeof(why)), 0);
	assert_string_equal(c = ops_cmd_run_probe(o, "root", 0, false, &err),
			    "touch /var/run/arvados-dispatch-heartbeat; crunch-run --list");
	free(c);
	assert_string_equal(c = ops_cmd_run_probe(o, "admin", 1, false, &err),
			    "sudo touch /var/run/arvados-dispatch-heartbeat; "
			    "sudo crunch-run --list --stdin-prices");
	free(c);
	ops_free(o);
	/* With a spot check too: the touch, the check, then crunch-run, all in one command. */
	conf.imds_url = "http://169.254.169.254";
	conf.imds_kind = "ec2";
	assert_int_equal(ops_new(&conf, &o, why, sizeof(why)), 0);
	c = ops_cmd_run_probe(o, "admin", 0, true, &err);
	assert_non_null(c);
	assert_true(strncmp(c,
			    "sudo touch /var/run/arvados-dispatch-heartbeat; "
			    "u='http://169.254.169.254'; ",
			    76) == 0);
	assert_true(strlen(c) > 26 &&
		    strcmp(c + strlen(c) - 26, "fi; sudo crunch-run --list") == 0);
	free(c);
	ops_free(o);
}

/* The spot check (-spot-interruption-notices): only with a metadata URL given at ops_new,
 * which must be http://host[:port]; it comes first, quoted, and crunch-run's command follows
 * unchanged (its exit status is the command's). */
static void
test_spot_check_command(void **st)
{
	struct ops_conf c = { .imds_url = "http://169.254.169.254", .imds_kind = "ec2" };
	struct ops *o = NULL, *plain = mkops(NULL, NULL, 0);
	char why[200], *cmd;
	int err = 0;
	static const char *const bad[] = { "https://169.254.169.254",
					   "http://a b",
					   "http://x/latest",
					   "http://x:123456",
					   "http://$(id)",
					   "http://-x",
					   "ftp://x",
					   "http://" };
	static const char *const bad_kind[] = { NULL, "", "gce", "EC2", "azure ", "ec2;id" };

	(void)st;
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), 0);
	cmd = ops_cmd_run_probe(o, "admin", 1, true, &err);
	assert_non_null(cmd);
	assert_true(strncmp(cmd, "u='http://169.254.169.254'; if command -v curl ", 45) == 0);
	assert_non_null(strstr(cmd, "\"$u/latest/api/token\""));
	assert_non_null(strstr(cmd, "\"$u/latest/meta-data/spot/instance-action\""));
	assert_non_null(strstr(cmd, "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60'"));
	assert_non_null(strstr(cmd, "else echo adc-spot no-curl; fi; "));
	assert_int_equal(
		strcmp(cmd + strlen(cmd) - strlen("fi; sudo crunch-run --list --stdin-prices"),
		       "fi; sudo crunch-run --list --stdin-prices"),
		0);
	free(cmd);
	/* Without the check, the command is the plain one. */
	assert_string_equal(cmd = ops_cmd_run_probe(o, "root", 0, false, &err),
			    "crunch-run --list");
	free(cmd);
	/* No URL at ops_new: refused. */
	assert_null(ops_cmd_run_probe(plain, "root", 0, true, &err));
	assert_int_equal(err, -EINVAL);
	ops_free(o);
	ops_free(plain);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.imds_url = bad[i];
		o = NULL;
		assert_int_equal(ops_new(&c, &o, why, sizeof(why)), -EINVAL);
		assert_null(o);
	}
	c.imds_url = "http://imds.adc.test:8080";
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), 0);
	ops_free(o);
	/* The kind says which service answers: only the two drivers that have a notice. */
	for (size_t i = 0; i < sizeof(bad_kind) / sizeof(bad_kind[0]); i++) {
		c.imds_kind = bad_kind[i];
		o = NULL;
		assert_int_equal(ops_new(&c, &o, why, sizeof(why)), -EINVAL);
		assert_null(o);
	}
	/* Without a URL the kind does not matter (no check can be asked for). */
	c.imds_url = "";
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), 0);
	ops_free(o);
}

/* Azure's check: one GET of Scheduled Events with "Metadata: true" (the service refuses a
 * request without it), no token, its own line; crunch-run's command follows unchanged. */
static void
test_spot_check_command_azure(void **st)
{
	struct ops_conf c = { .imds_url = "http://169.254.169.254", .imds_kind = "azure" };
	struct ops *o = NULL;
	char why[200], *cmd;
	int err = 0;

	(void)st;
	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), 0);
	cmd = ops_cmd_run_probe(o, "admin", 0, true, &err);
	assert_non_null(cmd);
	assert_true(strncmp(cmd, "u='http://169.254.169.254'; if command -v curl ", 45) == 0);
	assert_non_null(strstr(cmd, "-H 'Metadata: true' "));
	assert_non_null(strstr(cmd, "\"$u/metadata/scheduledevents?api-version=2020-07-01\""));
	assert_non_null(strstr(cmd, "printf 'adc-spot events %s\\n' "));
	assert_null(strstr(cmd, "api/token"));
	assert_null(strstr(cmd, "X-aws"));
	assert_non_null(strstr(cmd, "else echo adc-spot no-curl; fi; sudo crunch-run --list"));
	assert_int_equal(strcmp(cmd + strlen(cmd) - strlen("fi; sudo crunch-run --list"),
				"fi; sudo crunch-run --list"),
			 0);
	free(cmd);
	ops_free(o);
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
	assert_string_equal(c = ops_cmd_run_probe(o, "root", 0, false, &err), "crunch-run --list");
	free(c);
	assert_string_equal(c = ops_cmd_run_probe(o, "admin", 1, false, &err),
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
			  "crunch-run/crunch-run~0123456789abcdef0123456789abcdef\"; for p in "));
	/* the guard comes before the first write; nothing is written through dstfile itself */
	assert_true(strstr(c, "exit 97") < strstr(c, "mkdir -p"));
	assert_null(strstr(c, "touch"));
	assert_null(strstr(c, ">\"$dstfile\""));
	assert_non_null(strstr(c, "mv -f \"$tmp\" \"$dstfile\""));
	free(c);
	assert_non_null(
		c = ops_cmd_deploy_install(o, "admin", "0123456789abcdef0123456789abcdef", &err));
	assert_int_equal(strncmp(c, "sudo sh -c 'set -e; ", 20), 0);
	free(c);
	assert_null(ops_cmd_deploy_check(o, "root", "0123", &err));
	ops_free(o);
}

/* ---- the deploy scripts, run by /bin/sh on this machine as on a worker ---- */

#define RUNNER	   "hello runner\n"
#define RUNNER_MD5 "99dd323a2af11d07975159a466e53412"

/* How long run_sh waits before it writes the stdin (test_deploy_scripts: the script refuses
 * and exits first). */
static useconds_t run_sh_stdin_delay_ms;

/* Run cmd with stdin; its exit status, stdout in out (NUL-terminated). */
static int
run_sh(const char *cmd, const char *in, char *out, size_t outlen)
{
	int ip[2], op[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(ip), 0);
	assert_int_equal(pipe(op), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(ip[0], 0);
		dup2(op[1], 1);
		close(ip[1]);
		close(op[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	if (in != NULL) {
		/* A script that refuses (exit 97) without reading its stdin may be gone before this
		 * write when the machine is loaded and the child runs first (make test-repeat run 18
		 * died of SIGPIPE here): the write then fails with EPIPE, which is not a failure of
		 * the script; its exit status and output below are what the tests check. */
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;
		ssize_t w;

		assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
		if (run_sh_stdin_delay_ms)
			usleep(run_sh_stdin_delay_ms * 1000u);
		w = write(ip[1], in, strlen(in));
		assert_true(w == (ssize_t)strlen(in) || (w < 0 && errno == EPIPE));
		assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
	}
	close(ip[1]);
	while (n + 1 < outlen && (r = read(op[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(op[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct ops *
deploy_ops(const char *dir)
{
	struct ops_conf c = { .runner_hash = RUNNER_MD5, .deploy_dir = dir };
	struct ops *o = NULL;
	char why[200];

	assert_int_equal(ops_new(&c, &o, why, sizeof(why)), 0);
	return o;
}

/* check (stdin: none) or install (stdin: content) into dir; the script's exit status. */
static int
deploy_run(const char *dir, bool install, const char *content, char *out, size_t outlen)
{
	struct ops *o = deploy_ops(dir);
	struct passwd *pw = getpwuid(geteuid());
	char *c;
	int err = 0, rc;

	assert_non_null(pw);
	c = install ? ops_cmd_deploy_install(o, pw->pw_name, RUNNER_MD5, &err)
		    : ops_cmd_deploy_check(o, pw->pw_name, RUNNER_MD5, &err);
	assert_non_null(c);
	/* not root: the script is wrapped in "sudo sh -c '...'"; run the sh -c part as is */
	rc = run_sh(strncmp(c, "sudo ", 5) == 0 ? c + 5 : c, content, out, outlen);
	free(c);
	ops_free(o);
	return rc;
}

static int
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' || (e->d_name[1] != '\0' && e->d_name[1] != '.');
	closedir(d);
	return n;
}

/* Issue 12, defects 2 and 5: the guard runs before any write (a link in the deploy directory
 * never makes the script create or write its target), its exit is 97, and a received file whose
 * md5 differs is never renamed into place. */
static void
test_deploy_scripts(void **st)
{
	char base[] = "/tmp/adc-deploy-test-XXXXXX", dir[128], file[200], victim[128], out[1024],
	     want[400];
	struct stat sb;
	FILE *f;
	char got[64] = { 0 };

	(void)st;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/deploy", base);
	snprintf(file, sizeof(file), "%s/crunch-run~%s", dir, RUNNER_MD5);
	snprintf(victim, sizeof(victim), "%s/nologin", base);

	/* a fresh install creates the directory; the check then recognises the file */
	assert_int_not_equal(deploy_run(dir, false, NULL, out, sizeof(out)), 97);
	assert_int_equal(deploy_run(dir, true, RUNNER, out, sizeof(out)), 0);
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	assert_non_null(f = fopen(file, "r"));
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, RUNNER);
	assert_int_equal(dir_entries(dir), 1); /* no temporary file left */
	assert_int_equal(deploy_run(dir, false, NULL, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s  %s\n", RUNNER_MD5, file);
	assert_string_equal(out, want);

	/* a stream that is not the runner: refused on the worker, nothing installed */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(deploy_run(dir, true, "hello runnex\n", out, sizeof(out)), 98);
	assert_int_equal(dir_entries(dir), 0);

	/* crunch-run~<md5> as a link to a file elsewhere (/etc/nologin on a worker) */
	assert_int_equal(symlink(victim, file), 0);
	assert_int_equal(deploy_run(dir, false, NULL, out, sizeof(out)), 97);
	assert_int_equal(deploy_run(dir, true, RUNNER, out, sizeof(out)), 97);
	/* the same, the script gone before its stdin is written (SIGPIPE in the harness) */
	run_sh_stdin_delay_ms = 300;
	assert_int_equal(deploy_run(dir, true, RUNNER, out, sizeof(out)), 97);
	run_sh_stdin_delay_ms = 0;
	assert_int_equal(lstat(victim, &sb), -1);
	assert_int_equal(unlink(file), 0);

	/* the directory itself as a link */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(mkdir(victim, 0755), 0);
	assert_int_equal(symlink(victim, dir), 0);
	assert_int_equal(deploy_run(dir, true, RUNNER, out, sizeof(out)), 97);
	assert_int_equal(dir_entries(victim), 0);
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(rmdir(victim), 0);

	/* a directory owned by another user: refused before anything is created in it */
	if (geteuid() == 0) {
		assert_int_equal(mkdir(dir, 0777), 0);
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_int_equal(deploy_run(dir, false, NULL, out, sizeof(out)), 97);
		assert_int_equal(deploy_run(dir, true, RUNNER, out, sizeof(out)), 97);
		assert_int_equal(dir_entries(dir), 0);
		assert_int_equal(rmdir(dir), 0);
	}
	assert_int_equal(rmdir(base), 0);
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
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_small_patterns),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_quote_hostile),
		cmocka_unit_test(test_quote_limits),
		cmocka_unit_test(test_command_lines),
		cmocka_unit_test(test_run_probe_heartbeat),
		cmocka_unit_test(test_spot_check_command),
		cmocka_unit_test(test_spot_check_command_azure),
		cmocka_unit_test(test_bad_conf),
		cmocka_unit_test(test_deploy_scripts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
