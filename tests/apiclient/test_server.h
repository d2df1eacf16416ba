/* test_server.h - start and stop api_test_server.py for the API client tests. */
#ifndef ADC_TEST_APICLIENT_SERVER_H
#define ADC_TEST_APICLIENT_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct test_server {
	pid_t pid;
	int port;
	char dir[64]; /* certificates when tls: dir/cert.pem, dir/other.pem */
	char url[96]; /* "http://127.0.0.1:<port>" or https */
};

/* 0 or -errno. */
int test_server_start(struct test_server *s, bool tls, const char *token);
void test_server_stop(struct test_server *s);

/* A loopback port nothing listens on (bound, then closed). */
int test_server_dead_port(void);

#endif
