/*
 * test_cloudglue_loopback.c - the loopback driver end to end: the real cloudd -driver
 * loopback creates an instance (removing /var/lock/crunch-run-broken), which must be a real
 * sshd on 127.0.0.1:<port> that the real ssh client reaches with the dispatch key while
 * verifying the returned host key (StrictHostKeyChecking=yes), and whose commands are not
 * confined (no seccomp, no no_new_privs, may write /var/lock and a deploy directory of their
 * own); a second create is refused as quota; destroy stops it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glue.h"

#define BROKEN "/var/lock/crunch-run-broken"

static struct glue G;
static char dir[64] = "/tmp/adc-cloudglue-lb.XXXXXX";
static char pubkey[1024];

static int
sh(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	char cmd[512];
	FILE *f;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t ed25519 -N '' -C dispatch -f %s/id", dir);
	if (sh(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/id.pub", dir);
	if ((f = fopen(cmd, "r")) == NULL || fgets(pubkey, sizeof(pubkey), f) == NULL)
		return -1;
	fclose(f);
	pubkey[strcspn(pubkey, "\n")] = 0;
	return glue_start(&G, "loopback", "{\"DriverParameters\":{},\"Env\":{}}");
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	glue_stop(&G);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd);
	return 0;
}

static bool
port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

/* ssh user@127.0.0.1 -p port with the dispatch key and a known_hosts of hostkey, running
 * rcmd (single-quoted for the local shell: no ' in it); its output lines joined with ' '
 * into out. Returns ssh's exit status. */
static int
ssh_cmd(const char *user, int port, const char *hostkey, const char *rcmd, char *out, size_t outlen)
{
	char kh[256], cmd[2048], line[512];
	FILE *f;
	int st;

	snprintf(kh, sizeof(kh), "%s/known_hosts", dir);
	if ((f = fopen(kh, "w")) == NULL)
		return -1;
	fprintf(f, "[127.0.0.1]:%d %s\n", port, hostkey);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "ssh -F /dev/null -i %s/id -p %d -o IdentitiesOnly=yes -o BatchMode=yes "
		 "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o "
		 "GlobalKnownHostsFile=/dev/null "
		 "-o ConnectTimeout=10 %s@127.0.0.1 '%s' 2>%s/ssh.err",
		 dir, port, kh, user, rcmd, dir);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	out[0] = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t l = strlen(out);

		line[strcspn(line, "\n")] = 0;
		snprintf(out + l, outlen - l, "%s%s", l ? " " : "", line);
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
ssh_run(const char *user, int port, const char *hostkey, char *out, size_t outlen)
{
	return ssh_cmd(user, port, hostkey, "echo loopback-$((6*7))", out, outlen);
}

/* The instance runs commands as the reference does, as the dispatcher's user in a normal
 * environment: no seccomp filter, no no_new_privs (sudo works), files written where
 * crunch-run writes them (/var/lock) and in a deploy directory outside cloudd's private
 * directory (here the test's own). */
static void
unconfined(const struct glue_res *r, int port)
{
	char out[512], rcmd[1024], lock[128], deployed[256];

	snprintf(lock, sizeof(lock), "/var/lock/crunch-run-adc-cloudglue-%d.lock", (int)getpid());
	snprintf(deployed, sizeof(deployed), "%s/deploy/crunch-run~test", dir);
	snprintf(rcmd, sizeof(rcmd),
		 "grep -E \"^(NoNewPrivs|Seccomp):\" /proc/self/status | tr -s \"\t \" \" \" && "
		 "echo locked >%s && mkdir -p %s/deploy && echo runner >%s && echo wrote",
		 lock, dir, deployed);
	assert_int_equal(ssh_cmd(r->user, port, r->host_key, rcmd, out, sizeof(out)), 0);
	assert_string_equal(out, "NoNewPrivs: 0 Seccomp: 0 wrote");
	assert_int_equal(access(lock, F_OK), 0);
	assert_int_equal(access(deployed, F_OK), 0);
	unlink(lock);
}

static void
test_loopback_sshd(void **state)
{
	struct proto_cloud_create req = {
		.itype = { "localhost", "localhost", 1.0, false, 0 },
		.image = "",
		.init_command = "",
		.public_key = pubkey,
		.key = "",
	};
	struct glue_res r, r2;
	char out[256];
	int port = 0;

	(void)state;
	/* A host crunch-run marked broken: a new instance starts unbroken (the reference). */
	fclose(fopen(BROKEN, "w"));
	assert_int_equal(access(BROKEN, F_OK), 0);
	assert_int_equal(glue_create(&G, &req, &r), 0);
	assert_int_equal(r.err.status, PROTO_OK);
	assert_int_equal(access(BROKEN, F_OK), -1);
	assert_string_equal(r.id, "localhost");
	assert_int_equal(sscanf(r.address, "127.0.0.1:%d", &port), 1);
	assert_true(port > 0);
	assert_true(strncmp(r.host_key, "ssh-ed25519 ", 12) == 0);
	assert_string_equal(r.user, geteuid() == 0 ? "root" : r.user);

	/* The real client, the dispatch key, the returned host key pinned. */
	assert_int_equal(ssh_run(r.user, port, r.host_key, out, sizeof(out)), 0);
	assert_string_equal(out, "loopback-42");
	unconfined(&r, port);
	/* Another host key in known_hosts: ssh refuses (the pin is what it checks). */
	assert_int_not_equal(
		ssh_run(r.user, port,
			"ssh-ed25519 "
			"AAAAC3NzaC1lZDI1NTE5AAAAIHQNIwP6vJ0IIm6rTW0yQHfuCiXR4Zgy+xFCiDTCxW4b",
			out, sizeof(out)),
		0);

	/* One instance at most. */
	assert_int_equal(glue_create(&G, &req, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_E_FAILED);
	assert_int_equal(r2.err.cls, PROTO_CLOUD_QUOTA);
	assert_string_equal(r2.err.text, "loopback driver is always at quota");
	glue_res_free(&r2);

	struct proto_cloud_tags none = { 0 };
	assert_int_equal(glue_list(&G, &none, &r2), 0);
	assert_int_equal(r2.n, 1);
	assert_string_equal(r2.address, r.address);
	glue_res_free(&r2);

	const char *ids[] = { r.id };
	assert_int_equal(glue_destroy(&G, ids, 1, &r2), 0);
	assert_int_equal(r2.n_ok, 1);
	glue_res_free(&r2);
	assert_false(port_open(port)); /* that sshd is gone */
	assert_int_equal(glue_list(&G, &none, &r2), 0);
	assert_int_equal(r2.n, 0);
	glue_res_free(&r2);

	/* And a new one can be created again, with a fresh host key. */
	assert_int_equal(glue_create(&G, &req, &r2), 0);
	assert_int_equal(r2.err.status, PROTO_OK);
	assert_string_not_equal(r2.host_key, r.host_key);
	glue_res_free(&r2);
	assert_int_equal(glue_destroy(&G, ids, 1, &r2), 0);
	glue_res_free(&r2);
	glue_res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_sshd),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
