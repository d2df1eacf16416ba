/*
 * pglock_tool - the lock module (dispatcherd/pglock.c) alone on a libuv loop, for
 * test_pglock.py: connection parameters as key=value arguments, timings as flags; every state
 * change is printed to stdout as one line ("active", "standby", "holder ADDR",
 * "confirm") with the
 * CLOCK_MONOTONIC time in seconds, the module's own log lines go to stderr (JSON). SIGTERM closes
 * the lock and exits 0. SIGUSR1 prints "alive" from the loop (test_pglock.py: the loop is not
 * blocked while a host name is being resolved).
 *
 *   pglock_tool [-retry-ms N] [-check-ms N] [-timeout-ms N] [-key N] host=... port=... ...
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "log.h"
#include "pglock.h"

static struct pglock *lock;

static void
say(const char *what, const char *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the same clock as Python's time.monotonic() */
	printf("%.3f %s%s%s\n", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, what, arg ? " " : "",
	       arg ? arg : "");
	fflush(stdout);
}

static void
on_change(void *arg, enum pglock_state st)
{
	(void)arg;
	say(st == PGLOCK_ACTIVE ? "active" : "standby", NULL);
}

static void
on_holder(void *arg, const char *holder)
{
	(void)arg;
	say("holder", holder);
}

static void
on_confirm(void *arg)
{
	(void)arg;
	say("confirm", NULL);
}

static uv_signal_t sig_alive;

static void
on_alive(uv_signal_t *s, int signum)
{
	(void)s, (void)signum;
	say("alive", NULL);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	pglock_close(lock);
	uv_close((uv_handle_t *)s, NULL);
	uv_close((uv_handle_t *)&sig_alive, NULL);
}

int
main(int argc, char **argv)
{
	struct cfg_postgres c = { 0 };
	struct pglock_opts o = { .on_change = on_change,
				 .on_holder = on_holder,
				 .on_confirm = on_confirm };
	char err[512];
	uv_loop_t *loop = uv_default_loop();
	uv_signal_t sig;

	log_init("pglock_tool", LOG_FMT_JSON, LOG_LVL_INFO);
	c.keys = calloc((size_t)argc, sizeof(char *));
	c.values = calloc((size_t)argc, sizeof(char *));
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (i + 1 < argc && strcmp(argv[i], "-retry-ms") == 0)
			o.retry_ms = (unsigned)atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "-check-ms") == 0)
			o.check_ms = (unsigned)atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "-timeout-ms") == 0)
			o.timeout_ms = (unsigned)atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "-key") == 0)
			o.key = atoll(argv[++i]);
		else if (eq != NULL) {
			*eq = '\0';
			c.keys[c.n] = argv[i];
			c.values[c.n++] = eq + 1;
		} else {
			fprintf(stderr, "pglock_tool: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	o.loop = loop;
	o.conn = &c;
	if (pglock_new(&o, &lock, err, sizeof(err)) != 0) {
		fprintf(stderr, "pglock_tool: %s\n", err);
		return 1;
	}
	uv_signal_init(loop, &sig);
	uv_signal_start(&sig, on_signal, SIGTERM);
	uv_signal_init(loop, &sig_alive);
	uv_signal_start(&sig_alive, on_alive, SIGUSR1);
	say("start", NULL);
	pglock_start(lock);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	free(c.keys);
	free(c.values);
	say("exit", NULL);
	return 0;
}
