/* test_server.c - see test_server.h. */
#include "test_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int
test_server_read_port(int fd)
{
	char buf[64];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return -EIO;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	int port;
	if (sscanf(buf, "PORT %d", &port) != 1)
		return -EIO;
	return port;
}

int
test_server_start(struct test_server *s, bool tls, const char *token)
{
	int p[2];

	memset(s, 0, sizeof(*s));
	if (tls) {
		snprintf(s->dir, sizeof(s->dir), "/tmp/adc-apiclient-XXXXXX");
		if (mkdtemp(s->dir) == NULL)
			return -errno;
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		char *argv[] = { "python3",	API_TEST_SERVER,      "--token",
				 (char *)token, tls ? "--tls" : NULL, s->dir,
				 NULL };
		/* If the test dies, the server must not outlive it (ctest would wait for it). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		execv("/usr/bin/python3", argv);
		_exit(127);
	}
	close(p[1]);
	s->port = test_server_read_port(p[0]);
	close(p[0]);
	if (s->port < 0) {
		int rc = s->port;
		test_server_stop(s);
		return rc;
	}
	snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%d", tls ? "https" : "http", s->port);
	return 0;
}

void
test_server_stop(struct test_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0] != '\0') {
		static const char *const files[] = { "cert.pem", "cert-key.pem", "other.pem",
						     "other-key.pem" };
		char path[128];
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
			unlink(path);
		}
		rmdir(s->dir);
		s->dir[0] = '\0';
	}
}

int
test_server_dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}
