/*
 * test_pchild_shutdown.c - the child's shutdown when SIGTERM and EOF from the parent race
 * (dispatcherd's child_stop closes the channel and sends SIGTERM at once).
 *
 * The SIGTERM is raised from inside the init callback, i.e. after epoll_wait returned for the
 * channel and before the EOF queued behind the init is read in the same burst: libuv has
 * written a message naming pchild's signal handle into its signal pipe, the EOF then makes
 * pchild_finish close that handle, and libuv keeps the close pending until the message is
 * read, after pchild_serve has returned. Its role's teardown (sshpool_teardown) runs the loop
 * again: the handle must still be valid memory then. It used to live in pchild_serve's frame;
 * the teardown's calls overwrote it and libuv aborted in uv__finish_close, which is what
 * e2e_journal saw about one run in three.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "build_id.h"
#include "proto_child.h"

static int inits;

static int
test_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg)
{
	(void)ans, (void)arg;
	if (m->fd >= 0)
		close(m->fd);
	inits++;
	raise(SIGTERM); /* caught by pchild's watcher; its pipe message not read yet */
	return 0;
}

static void
test_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	(void)ch, (void)m, (void)arg;
	fail_msg("no request was sent");
}

static void
test_send(int fd, struct proto_wbuf *w)
{
	assert_int_equal(send(fd, w->data, w->len, 0), (ssize_t)w->len);
	proto_wbuf_free(w);
}

/* What a role's teardown does to the stack pchild_serve used. */
static __attribute__((noinline)) void
test_scribble(void)
{
	volatile unsigned char junk[16384];

	memset((void *)junk, 0xff, sizeof(junk));
}

static void
test_sigterm_then_eof(void **state)
{
	struct proto_wbuf w;
	uv_loop_t loop;
	int sv[2], r, i;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(proto_hello_encode(&w, PROTO_HELLO_REQ, 1,
					    &(struct proto_hello){ .version = PROTO_VERSION,
								   .build_id = (char *)ADC_BUILD_ID,
								   .role = (char *)"dispatcher",
								   .pid = 1 }),
			 0);
	test_send(sv[0], &w);
	/* The payload is test_on_init's business only: an empty one will do. */
	assert_int_equal(proto_wbuf_begin(&w, PROTO_SSH_INIT_REQ, 0, 2, 0), 0);
	assert_int_equal(proto_wbuf_end(&w), 0);
	test_send(sv[0], &w);
	close(sv[0]); /* EOF right behind the init */

	assert_int_equal(uv_loop_init(&loop), 0);
	r = pchild_serve(&loop, sv[1],
			 &(struct pchild_ops){
				 .name = "sshd-pool",
				 .role = PROTO_ROLE_SSHD_POOL,
				 .init_type = PROTO_SSH_INIT_REQ,
				 .on_init = test_on_init,
				 .on_request = test_on_request,
			 });
	assert_int_equal(r, 0);
	assert_int_equal(inits, 1);
	test_scribble();
	/* As sshpool_teardown does: run what is left; the signal handle's close completes. */
	for (i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT) != 0; i++)
		;
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_then_eof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
