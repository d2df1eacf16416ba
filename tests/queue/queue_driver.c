/*
 * queue_driver - runs the container queue on a libuv loop against the API server named in a
 * config file, for the Python tests and the benchmark. Commands on stdin, one per line; JSON
 * lines on stdout (logs go to stderr):
 *
 *   dump                  {"reply":"dump", ...queue_dump_json...}
 *   stats                 {"reply":"stats","count":..,"pending_mounts":..,"records":..,"rss_kb":..,
 *                         "cpu_ms":..}
 *   container U           {"reply":"container","container":{...}}: the management API's container
 *                         object of U (queue_ent_container_json), null when not in the queue
 *   poll                  start a poll now (or right after the one in flight)
 *   lock|unlock|cancel U  {"reply":"op","rc":N}; when it ends {"event":"op",...}
 *   rterr U TEXT          set runtime_status.error (TEXT is the rest of the line)
 *   forget U              {"reply":"forget","rc":N}
 *   hold                  keep the view's entry pointers, as the scheduler loop does
 *                         {"reply":"hold","n":N}
 *   held                  read the held entries {"reply":"held","uuids":[...],"live":[...]}
 *                         (live: those queue_get still finds); under ASan a freed one aborts
 *   reap                  queue_reap, drop the held pointers {"reply":"reap"}
 *   quit                  free everything and exit 0
 *
 * Unprompted: {"event":"poll","ok":bool,...} after each poll attempt. After each poll the
 * removed entries are reaped (queue_reap), as the scheduler loop's next pass would, unless
 * entries are held.
 * QUEUE_DRIVER_SELECT_LOCK_COUNT set: queue_opts.select_lock_count.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include <cjson/cJSON.h>

#include "api_client.h"
#include "config.h"
#include "instance_types.h"
#include "log.h"
#include "queue.h"

struct driver {
	uv_loop_t *loop;
	uv_pipe_t in;
	char line[8192];
	size_t len;
	struct cfg_cluster *cfg;
	struct itypes_table *itypes;
	struct api_client *api;
	struct queue *q;
	uint64_t changes;	 /* queue on_change wake-ups */
	struct queue_ent **held; /* "hold" */
	size_t n_held;
	bool quitting;
};

static struct driver D;

static long
driver_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char buf[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), f) != NULL)
		if (sscanf(buf, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static double
driver_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static void
driver_stats(const char *kind)
{
	struct queue_stats s;

	queue_stats(D.q, &s);
	printf("{\"%s\":\"stats\",\"count\":%zu,\"pending_mounts\":%zu,\"mounts_in_flight\":%zu,"
	       "\"unsatisfiable\":%zu,\"records\":%zu,\"choices\":%zu,\"polls_ok\":%llu,\"polls_"
	       "failed\":%llu,"
	       "\"last_poll_duration_ms\":%llu,\"last_poll_requests\":%llu,\"last_503_ms\":%llu,"
	       "\"changes\":%llu,\"rss_kb\":%ld,\"cpu_ms\":%.1f}\n",
	       kind, s.entries, s.pending_mounts, s.mounts_in_flight, s.unsatisfiable, s.records,
	       s.choices, (unsigned long long)s.polls_ok, (unsigned long long)s.polls_failed,
	       (unsigned long long)s.last_poll_duration_ms,
	       (unsigned long long)s.last_poll_requests, (unsigned long long)s.last_503_ms,
	       (unsigned long long)D.changes, driver_rss_kb(), driver_cpu_ms());
	fflush(stdout);
}

static void
driver_polled(void *arg, bool ok)
{
	struct queue_stats s;

	(void)arg;
	if (D.held == NULL)
		queue_reap(D.q);
	queue_stats(D.q, &s);
	printf("{\"event\":\"poll\",\"ok\":%s,\"polls_ok\":%llu,\"polls_failed\":%llu,"
	       "\"count\":%zu,\"pending_mounts\":%zu,\"duration_ms\":%llu,\"requests\":%llu,"
	       "\"cpu_ms\":%.1f}\n",
	       ok ? "true" : "false", (unsigned long long)s.polls_ok,
	       (unsigned long long)s.polls_failed, s.entries, s.pending_mounts,
	       (unsigned long long)s.last_poll_duration_ms,
	       (unsigned long long)s.last_poll_requests, driver_cpu_ms());
	fflush(stdout);
}

static void
driver_changed(void *arg)
{
	(void)arg;
	D.changes++;
}

static void
driver_op_done(void *arg, const char *uuid, int err, const char *error)
{
	char *e = NULL;
	cJSON *s = cJSON_CreateString(error ? error : "");

	e = cJSON_PrintUnformatted(s);
	printf("{\"event\":\"op\",\"op\":\"%s\",\"uuid\":\"%s\",\"err\":%d,\"error\":%s}\n",
	       (const char *)arg, uuid, err, e ? e : "\"\"");
	fflush(stdout);
	free(e);
	cJSON_Delete(s);
}

static void
driver_closed_api(void *arg)
{
	(void)arg;
	itypes_table_free(D.itypes);
	cfg_free(D.cfg);
	uv_close((uv_handle_t *)&D.in, NULL);
}

static void
driver_closed_queue(void *arg)
{
	(void)arg;
	api_client_free(D.api, driver_closed_api, NULL);
}

static void
driver_hold(void)
{
	size_t n;
	struct queue_ent *const *v = queue_view(D.q, &n);

	free(D.held);
	D.held = calloc(n + 1, sizeof(*D.held));
	D.n_held = D.held != NULL ? n : 0;
	if (D.held != NULL)
		memcpy(D.held, v, n * sizeof(*v));
	printf("{\"reply\":\"hold\",\"n\":%zu}\n", D.n_held);
}

/* Reads each held entry's uuid: the test is that a removed entry is still readable. */
static void
driver_held(void)
{
	printf("{\"reply\":\"held\",\"uuids\":[");
	for (size_t i = 0; i < D.n_held; i++)
		printf("%s\"%s\"", i ? "," : "", D.held[i]->uuid);
	printf("],\"live\":[");
	for (size_t i = 0, k = 0; i < D.n_held; i++)
		if (queue_get(D.q, D.held[i]->uuid) == D.held[i])
			printf("%s\"%s\"", k++ ? "," : "", D.held[i]->uuid);
	printf("]}\n");
}

static void
driver_command(char *line)
{
	char *sp = strchr(line, ' ');
	const char *arg = sp ? sp + 1 : "";
	int rc;

	if (sp != NULL)
		*sp = '\0';
	if (strcmp(line, "dump") == 0) {
		char *j = queue_dump_json(D.q);

		printf("{\"reply\":\"dump\",\"queue\":%s}\n", j ? j : "null");
		free(j);
	} else if (strcmp(line, "stats") == 0) {
		driver_stats("reply");
		return;
	} else if (strcmp(line, "poll") == 0) {
		queue_poll_now(D.q);
		printf("{\"reply\":\"poll\"}\n");
	} else if (strcmp(line, "forget") == 0) {
		printf("{\"reply\":\"forget\",\"rc\":%d}\n", queue_forget(D.q, arg));
	} else if (strcmp(line, "lock") == 0 || strcmp(line, "unlock") == 0 ||
		   strcmp(line, "cancel") == 0 || strcmp(line, "rterr") == 0) {
		static char uuid[QUEUE_UUID_MAX];
		const char *text = strchr(arg, ' ');

		snprintf(uuid, sizeof(uuid), "%.*s",
			 (int)(text ? (size_t)(text - arg) : strlen(arg)), arg);
		if (line[0] == 'l')
			rc = queue_lock(D.q, uuid, driver_op_done, "lock");
		else if (line[0] == 'u')
			rc = queue_unlock(D.q, uuid, driver_op_done, "unlock");
		else if (line[0] == 'c')
			rc = queue_cancel(D.q, uuid, driver_op_done, "cancel");
		else
			rc = queue_set_runtime_error(D.q, uuid, text ? text + 1 : "",
						     driver_op_done, "rterr");
		printf("{\"reply\":\"op\",\"rc\":%d}\n", rc);
	} else if (strcmp(line, "hold") == 0) {
		driver_hold();
	} else if (strcmp(line, "held") == 0) {
		driver_held();
	} else if (strcmp(line, "container") == 0) {
		struct queue_ent *e = queue_get(D.q, arg);
		cJSON *c = e ? queue_ent_container_json(e, queue_identity(D.q)) : NULL;
		char *j = c ? cJSON_PrintUnformatted(c) : NULL;

		printf("{\"reply\":\"container\",\"container\":%s}\n", j ? j : "null");
		free(j);
		cJSON_Delete(c);
	} else if (strcmp(line, "reap") == 0) {
		queue_reap(D.q);
		free(D.held);
		D.held = NULL;
		D.n_held = 0;
		printf("{\"reply\":\"reap\"}\n");
	} else if (strcmp(line, "quit") == 0) {
		D.quitting = true;
		uv_read_stop((uv_stream_t *)&D.in);
		queue_free(D.q, driver_closed_queue, NULL);
		free(D.held);
		printf("{\"reply\":\"quit\"}\n");
	} else {
		printf("{\"reply\":\"error\",\"error\":\"unknown command\"}\n");
	}
	fflush(stdout);
}

static void
driver_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char b[4096];

	(void)h;
	(void)hint;
	*buf = uv_buf_init(b, sizeof(b));
}

static void
driver_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)s;
	if (n < 0) {
		if (!D.quitting) {
			driver_command((char[]){ "quit" });
		}
		return;
	}
	for (ssize_t i = 0; i < n && !D.quitting; i++) {
		if (buf->base[i] != '\n') {
			if (D.len + 1 < sizeof(D.line))
				D.line[D.len++] = buf->base[i];
			continue;
		}
		D.line[D.len] = '\0';
		D.len = 0;
		driver_command(D.line);
	}
}

int
main(int argc, char **argv)
{
	struct cfg_diags diags = { 0 };
	struct api_client_opts o;
	struct queue_opts qo = { 0 };
	char *err = NULL;
	const char *lvl = getenv("QUEUE_DRIVER_LOG_LEVEL");

	if (argc != 2) {
		fprintf(stderr, "usage: queue_driver CONFIG\n");
		return 2;
	}
	log_init("queue_driver", LOG_FMT_JSON,
		 lvl ? (enum log_level)log_level_parse(lvl) : LOG_LVL_INFO);
	D.loop = uv_default_loop();
	D.cfg = cfg_load(argv[1], &diags);
	for (size_t i = 0; i < diags.n; i++) {
		char *t = cfg_diag_format(&diags.v[i]);

		fprintf(stderr, "%s\n", t ? t : "?");
		free(t);
	}
	cfg_diags_free(&diags);
	if (D.cfg == NULL)
		return 1;
	log_set_cluster_id(D.cfg->cluster_id);
	if (itypes_table_new(D.cfg, &D.itypes) != 0)
		return 1;
	api_client_opts_from_cfg(D.cfg, &o);
	if (api_client_new(D.loop, &o, &D.api, &err) != 0) {
		fprintf(stderr, "api client: %s\n", err ? err : "?");
		return 1;
	}
	qo.loop = D.loop;
	qo.api = D.api;
	/* The spot fallback's lock_count (-spot-fallback-after-attempts). */
	qo.select_lock_count = getenv("QUEUE_DRIVER_SELECT_LOCK_COUNT") != NULL;
	qo.cluster = D.cfg;
	qo.itypes = D.itypes;
	qo.on_change = driver_changed;
	qo.on_poll = driver_polled;
	if (queue_new(&qo, &D.q) != 0)
		return 1;
	uv_pipe_init(D.loop, &D.in, 0);
	if (uv_pipe_open(&D.in, 0) != 0 ||
	    uv_read_start((uv_stream_t *)&D.in, driver_alloc, driver_read) != 0)
		return 1;
	queue_start(D.q);
	uv_run(D.loop, UV_RUN_DEFAULT);
	return uv_loop_close(D.loop) == 0 ? 0 : 3;
}
