/*
 * test_listen.c - spec 1.4 listener selection with its exact error texts, systemd socket
 * activation (LISTEN_FDS in a forked child), and https with an openssl-made certificate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_listen.h"
#include "mgmt_fixture.h"
#include "util.h"

#define TOKEN "tok-listen-test"
#define AUTH  "Authorization: Bearer " TOKEN

static int
local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	return ntohs(a.sin_port);
}

static void
test_no_entries(void **state)
{
	(void)state;
	struct http_listen l;
	char err[512];
	assert_true(http_listen_open(NULL, 0, NULL, &l, err, sizeof(err)) < 0);
	assert_string_equal(
		err, "configuration does not enable the \"dispatch-cloud\" service on this host");
	/* An address this host does not have (bind gives EADDRNOTAVAIL; nothing is sent) is
	 * another host's entry: skipped, not an error. */
	struct cfg_internal_url u[] = { { "http://192.0.2.1:9006", "" } };
	assert_true(http_listen_open(u, 1, NULL, &l, err, sizeof(err)) < 0);
	assert_string_equal(
		err, "configuration does not enable the \"dispatch-cloud\" service on this host");
}

static void
test_port_in_use(void **state)
{
	(void)state;
	int port, busy = listen_loopback(&port);
	char url[64], err[512], want[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	struct cfg_internal_url u[] = { { "http://192.0.2.1:9006", "" }, { url, "" } };
	struct http_listen l;
	assert_true(http_listen_open(u, 2, NULL, &l, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want),
		 "could not enable the \"dispatch-cloud\" service on this host: %s: listen tcp "
		 "127.0.0.1:%d: bind: address already in use",
		 url, port);
	assert_string_equal(err, want);
	close(busy);
}

static void
test_select_and_listen_url(void **state)
{
	(void)state;
	int port, tmp = listen_loopback(&port);
	close(tmp); /* a port that was free a moment ago */
	char lu[64], err[512];
	snprintf(lu, sizeof(lu), "http://127.0.0.1:%d", port);
	/* The internal URL is another host's; ListenURL says where to listen here. */
	struct cfg_internal_url u[] = { { "https://dispatch.example:9006", lu } };
	struct http_listen l;
	assert_int_equal(http_listen_open(u, 1, NULL, &l, err, sizeof(err)), 0);
	assert_string_equal(l.listen_url, lu);
	assert_string_equal(l.internal_url, "https://dispatch.example:9006");
	assert_false(l.https);
	assert_int_equal(local_port(l.fd), port);
	http_listen_free(&l);
}

static void
test_env_url(void **state)
{
	(void)state;
	int p1, p2, t1 = listen_loopback(&p1), t2 = listen_on("127.0.0.2", &p2);
	close(t1);
	close(t2);
	char u1[64], u2[64], env[80], err[512];
	snprintf(u1, sizeof(u1), "http://127.0.0.1:%d", p1);
	snprintf(u2, sizeof(u2), "http://127.0.0.2:%d", p2);
	struct cfg_internal_url u[] = { { u1, "" }, { u2, "" } };
	struct http_listen l;
	/* The path is normalised to "/" before matching. */
	snprintf(env, sizeof(env), "%s/", u2);
	assert_int_equal(http_listen_open(u, 2, env, &l, err, sizeof(err)), 0);
	assert_string_equal(l.internal_url, u2);
	assert_int_equal(local_port(l.fd), p2);
	http_listen_free(&l);
	/* No matching entry: a warning, and that URL anyway. */
	int p3, t3 = listen_on("127.0.0.3", &p3);
	close(t3);
	snprintf(env, sizeof(env), "http://127.0.0.3:%d", p3);
	assert_int_equal(http_listen_open(u, 2, env, &l, err, sizeof(err)), 0);
	assert_int_equal(local_port(l.fd), p3);
	http_listen_free(&l);
}

/* The child: adopt fd 3 from LISTEN_FDS and serve until killed. */
static void
activated_child(int lfd, int port)
{
	char lp[32], url[64], err[512];
	if (lfd != 3 && (dup2(lfd, 3) != 3 || close(lfd) != 0))
		_exit(10);
	snprintf(lp, sizeof(lp), "%d", (int)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", lp, 1);
	/* Without the activated socket this entry could not bind: the parent's copy is open. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	struct cfg_internal_url u[] = { { url, "" } };
	struct http_listen l;
	if (http_listen_open(u, 1, NULL, &l, err, sizeof(err)) != 0 || !l.activated || l.fd != 3 ||
	    getenv("LISTEN_FDS"))
		_exit(11);
	struct fixture f = { 0 };
	fixture_setup_loop(&f, &(struct fixture_opts){ .token = TOKEN }, l.fd);
	l.fd = -1;
	uv_run(&f.loop, UV_RUN_DEFAULT);
	_exit(0);
}

static void
test_socket_activation(void **state)
{
	(void)state;
	int port, lfd = listen_loopback(&port);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		activated_child(lfd, port);
	close(lfd);
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	struct reply r;
	const char *h[] = { AUTH, NULL };
	/* The socket was listening before the fork, so this connects at once and waits for the
	 * child to accept. */
	http_call(base, "GET", "/_health/ping", h, NULL, &r);
	int status = 0;
	pid_t w = waitpid(pid, &status, WNOHANG);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (w == pid)
		fail_msg("activated child exited early: %d", WEXITSTATUS(status));
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"health\":\"OK\"}\n");
	reply_free(&r);
}

static void
test_https(void **state)
{
	(void)state;
	char dir[] = "/tmp/mgmt-tls-XXXXXX", cert[128], key[128], certurl[160];
	tls_cert_make(dir, cert, key);
	/* Both forms of TLS.Certificate: a file:// URL and a plain path. */
	snprintf(certurl, sizeof(certurl), "file://%s", cert);
	char *cpem, *kpem, err[256];
	assert_int_equal(http_listen_load_tls(certurl, key, &cpem, &kpem, err, sizeof(err)), 0);
	assert_non_null(strstr(cpem, "BEGIN CERTIFICATE"));
	char *c2, *k2;
	assert_true(http_listen_load_tls("", "", &c2, &k2, err, sizeof(err)) < 0);
	assert_string_equal(err,
			    "cannot enable TLS: TLS.Certificate and TLS.Key are not configured");
	assert_true(http_listen_load_tls("relative/cert.pem", key, &c2, &k2, err, sizeof(err)) < 0);
	struct fixture f;
	fixture_start(&f, &(struct fixture_opts){
				  .token = TOKEN, .tls_cert_pem = cpem, .tls_key_pem = kpem });
	adc_free_secret_str(kpem);
	free(cpem);
	char base[64];
	struct reply r;
	const char *h[] = { AUTH, NULL };
	setenv("MGMT_TEST_CAINFO", cert, 1);
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", f.port);
	http_call(base, "GET", "/_health/ping", h, NULL, &r);
	assert_int_equal(r.curl_rc, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"health\":\"OK\"}\n");
	reply_free(&r);
	/* Plain http to the TLS port gets no HTTP answer. */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", f.port);
	http_call(base, "GET", "/_health/ping", h, NULL, &r);
	assert_int_not_equal(r.status, 200);
	reply_free(&r);
	unsetenv("MGMT_TEST_CAINFO");
	fixture_stop(&f);
	tls_cert_remove(dir);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_entries),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_select_and_listen_url),
		cmocka_unit_test(test_env_url),
		cmocka_unit_test(test_socket_activation),
		cmocka_unit_test(test_https),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
