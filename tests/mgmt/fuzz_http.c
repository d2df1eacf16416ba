/*
 * fuzz_http.c - raw bytes into the management server's request path: one connection per input
 * over a socketpair, adopted with MHD_add_connection (http_server_adopt), the loop run until
 * the server has answered and closed or a bounded number of turns has passed.
 *
 * libmicrohttpd itself is a system library and is not instrumented; what gets coverage is ours:
 * request state, body limits, form parameters, auth, the front routes, the router, mgmt_api.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "metrics_catalog.h"
#include "mgmt_api.h"

static uv_loop_t loop;
static struct http_server *srv;
static struct metrics_registry *reg;
static struct mgmt_providers prov;

static void
setup(void)
{
	log_init("fuzz", LOG_FMT_TEXT, LOG_LVL_FATAL);
	uv_loop_init(&loop);
	reg = metrics_new();
	struct metrics_catalog_init in = { .version = "fuzz" };
	metrics_catalog_register(reg, &in);
	struct http_server_opts o = { .loop = &loop,
				      .listen_fd = -1,
				      .management_token = "fuzz",
				      .metrics = reg,
				      .max_body_bytes = 4096 };
	if (http_server_start(&o, &srv) < 0 || mgmt_api_register(srv, &prov) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!srv)
		setup();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (http_server_adopt(srv, sv[0]) < 0) {
		close(sv[1]);
		return 0;
	}
	size_t off = 0;
	char sink[65536];
	/* Stop at EOF, or once the answers have stopped coming (a keep-alive connection may
	 * stay open after its last response), or after a bounded number of quiet turns. */
	int got = 0, quiet = 0;
	for (int turn = 0; turn < 200 && quiet < (got ? 3 : 50); turn++) {
		if (off < size) {
			ssize_t k = write(sv[1], data + off, size - off);
			if (k > 0)
				off += (size_t)k;
		}
		if (off == size)
			shutdown(sv[1], SHUT_WR);
		uv_run(&loop, UV_RUN_NOWAIT);
		struct pollfd p = { .fd = sv[1], .events = POLLIN };
		quiet++;
		if (poll(&p, 1, off < size ? 0 : 1) == 1) {
			ssize_t k = read(sv[1], sink, sizeof(sink));
			if (k == 0 || (k < 0 && errno != EAGAIN))
				break;
			if (k > 0)
				got = 1, quiet = 0;
		}
	}
	close(sv[1]);
	/* Let MHD see the hang-up and free the connection before the next input. */
	for (int i = 0; i < 4; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
