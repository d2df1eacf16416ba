/*
 * test_pglock_resolve.c - the lock connection's host name lists (pglock_resolve.c) on a real
 * libuv loop with the machine's resolver: which values need a lookup, how libpq's host,
 * hostaddr and port lists are built from the answers, and a cancel. Names come from
 * /etc/hosts only (localhost): nothing is sent to a DNS server (test_pglock.py covers lookups
 * through a DNS server, slow and failing, with its own server on loopback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pglock_resolve.h"
#include "uv_wait.h"

#define WAIT_MS 20000 /* only reached on failure */

struct outcome {
	int calls, status;
	char name[64];
};

static void
on_done(void *arg, int status, const char *name)
{
	struct outcome *o = arg;

	o->calls++;
	o->status = status;
	snprintf(o->name, sizeof(o->name), "%s", name ? name : "");
}

static void
test_needed(void **state)
{
	(void)state;
	assert_false(pglock_resolve_needed(NULL, NULL));
	assert_false(pglock_resolve_needed("", NULL));
	assert_false(pglock_resolve_needed("127.0.0.1", "5432"));
	assert_false(pglock_resolve_needed("::1", NULL));
	assert_false(pglock_resolve_needed("/var/run/postgresql", NULL));
	assert_false(pglock_resolve_needed("@abstract", NULL));
	assert_false(pglock_resolve_needed("127.0.0.1,/tmp", "1,2"));
	assert_true(pglock_resolve_needed("localhost", NULL));
	assert_true(pglock_resolve_needed("localhost", "5432"));
	assert_true(pglock_resolve_needed("127.0.0.1,db.example", "1,2"));
	/* A port list that does not match the hosts: libpq's own error, nothing resolved. */
	assert_false(pglock_resolve_needed("localhost,127.0.0.1", "1,2,3"));
}

/* localhost's addresses as libpq's getaddrinfo would list them, comma-separated; their count. */
static size_t
localhost_addrs(char *buf, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	size_t k = 0, at = 0;

	assert_int_equal(getaddrinfo("localhost", NULL, &hints, &res), 0);
	buf[0] = '\0';
	for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
		char h[NI_MAXHOST];

		assert_int_equal(getnameinfo(a->ai_addr, a->ai_addrlen, h, sizeof(h), NULL, 0,
					     NI_NUMERICHOST),
				 0);
		if (strstr(buf, h) != NULL)
			continue; /* the same address twice (another socket type) */
		at += (size_t)snprintf(buf + at, len - at, "%s%s", k ? "," : "", h);
		k++;
	}
	freeaddrinfo(res);
	return k;
}

static void
test_lists(void **state)
{
	uv_loop_t loop;
	struct pglock_resolve r;
	struct outcome o = { 0 };
	char addrs[256], want_host[256] = "/tmp,", want_addr[300], want_port[64] = "1,";
	size_t k = localhost_addrs(addrs, sizeof(addrs));

	(void)state;
	assert_true(k >= 1);
	for (size_t i = 0; i < k; i++) {
		strcat(want_host, "localhost,");
		strcat(want_port, "2,");
	}
	strcat(want_host, "127.0.0.2");
	strcat(want_port, "3");
	snprintf(want_addr, sizeof(want_addr), ",%s,", addrs); /* none for a socket, an address */
	uv_loop_init(&loop);
	assert_int_equal(pglock_resolve_init(&r, &loop, "/tmp,localhost,127.0.0.2", "1,2,3"), 0);
	assert_int_equal(pglock_resolve_start(&r, on_done, &o), 0);
	assert_int_equal(o.calls, 0); /* never from inside the call */
	assert_int_equal(uvw_until_int(&loop, &o.calls, 1, WAIT_MS), 0);
	assert_int_equal(o.status, 0);
	assert_string_equal(r.host, want_host);
	assert_string_equal(r.hostaddr, want_addr);
	assert_string_equal(r.port, want_port);
	/* Again (every connection attempt): the same lists, not appended to the old ones. */
	assert_int_equal(pglock_resolve_start(&r, on_done, &o), 0);
	assert_int_equal(uvw_until_int(&loop, &o.calls, 2, WAIT_MS), 0);
	assert_int_equal(o.status, 0);
	assert_string_equal(r.hostaddr, want_addr);
	pglock_resolve_free(&r);
	/* One name, one port: the port is left to the operator's value. */
	assert_int_equal(pglock_resolve_init(&r, &loop, "localhost", "5432"), 0);
	assert_int_equal(pglock_resolve_start(&r, on_done, &o), 0);
	assert_int_equal(uvw_until_int(&loop, &o.calls, 3, WAIT_MS), 0);
	assert_int_equal(o.status, 0);
	assert_string_equal(r.hostaddr, addrs);
	assert_null(r.port);
	pglock_resolve_free(&r);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Cancelled (the lock closing): done comes once, UV_ECANCELED, whether or not the lookup had
 * started; no further name is looked up. */
static void
test_cancel(void **state)
{
	uv_loop_t loop;
	struct pglock_resolve r;
	struct outcome o = { 0 };

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(pglock_resolve_init(&r, &loop, "localhost,localhost", NULL), 0);
	assert_int_equal(pglock_resolve_start(&r, on_done, &o), 0);
	assert_true(pglock_resolve_cancel(&r));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0); /* nothing left on the loop */
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.status, UV_ECANCELED);
	assert_string_equal(o.name, "localhost");
	assert_false(pglock_resolve_cancel(&r)); /* nothing in flight */
	pglock_resolve_free(&r);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
