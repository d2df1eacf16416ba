/*
 * instcli_server.c - the real management HTTP server (http_server + mgmt_api) on a libuv
 * loop, with fake pool providers, for the instance client's tests.
 *
 *   instcli_server TOKEN INSTANCES.json ACTIONS.log
 *
 * Listens on 127.0.0.1:<ephemeral>, prints "PORT <n>" on stdout once it accepts connections.
 * GET /arvados/v1/dispatch/instances answers with the array in INSTANCES.json; every
 * hold/drain/run/kill that passes the server's auth and routing is appended to ACTIONS.log as
 * a JSON line {"action","id","reason"}, and succeeds when id is the "instance" of one of the
 * views (else the route's 404). The server's own `request` log entries (reqMethod, reqPath,
 * reqQuery) go to stderr as JSON lines. SIGTERM or SIGINT stops it cleanly (exit 0).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "http_server.h"
#include "log.h"
#include "mgmt_api.h"

struct srv {
	cJSON *instances;
	const char *actions_log;
	struct http_server *http;
	uv_signal_t sigterm, sigint;
};

static const char *const srv_action_names[] = { "hold", "drain", "run", "kill" };

static int
srv_list_instances(void *ctx, cJSON **items)
{
	struct srv *s = ctx;
	*items = cJSON_Duplicate(s->instances, 1);
	return *items ? 0 : -12;
}

static int
srv_instance_action(void *ctx, enum mgmt_instance_action a, const char *id, const char *reason)
{
	struct srv *s = ctx;
	cJSON *rec = cJSON_CreateObject(), *v;
	int found = 0;

	cJSON_AddStringToObject(rec, "action", srv_action_names[a]);
	cJSON_AddStringToObject(rec, "id", id);
	cJSON_AddStringToObject(rec, "reason", reason);
	char *line = cJSON_PrintUnformatted(rec);
	FILE *f = fopen(s->actions_log, "a");
	if (!line || !f) {
		fprintf(stderr, "instcli_server: cannot record the action\n");
		exit(3);
	}
	fprintf(f, "%s\n", line);
	fclose(f);
	free(line);
	cJSON_Delete(rec);
	cJSON_ArrayForEach(v, s->instances)
	{
		const cJSON *inst = cJSON_GetObjectItemCaseSensitive(v, "instance");
		if (cJSON_IsString(inst) && inst->valuestring[0] &&
		    strcmp(inst->valuestring, id) == 0)
			found = 1;
	}
	return found ? 0 : MGMT_NOT_FOUND;
}

static void
srv_closed(void *arg)
{
	struct srv *s = arg;
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
}

static void
srv_on_signal(uv_signal_t *h, int signum)
{
	struct srv *s = h->data;
	(void)signum;
	uv_signal_stop(&s->sigterm);
	uv_signal_stop(&s->sigint);
	http_server_close(s->http, srv_closed, s);
}

static cJSON *
srv_read_json(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ch;

	if (!f || !m)
		return NULL;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(f);
	fclose(m);
	cJSON *j = cJSON_ParseWithLength(buf, len);
	free(buf);
	return j;
}

int
main(int argc, char **argv)
{
	struct srv s = { 0 };
	uv_loop_t loop;

	if (argc != 4) {
		fprintf(stderr, "usage: instcli_server TOKEN INSTANCES.json ACTIONS.log\n");
		return 2;
	}
	log_init("instcli_server", LOG_FMT_JSON, LOG_LVL_INFO);
	s.instances = srv_read_json(argv[2]);
	s.actions_log = argv[3];
	if (!cJSON_IsArray(s.instances)) {
		fprintf(stderr, "instcli_server: %s is not a JSON array\n", argv[2]);
		return 2;
	}

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		perror("instcli_server: listen");
		return 1;
	}
	if (uv_loop_init(&loop) != 0)
		return 1;
	struct http_server_opts so = { .loop = &loop,
				       .listen_fd = fd,
				       .management_token = argv[1] };
	struct mgmt_providers prov = { .ctx = &s,
				       .list_instances = srv_list_instances,
				       .instance_action = srv_instance_action };
	if (http_server_start(&so, &s.http) != 0 || mgmt_api_register(s.http, &prov) != 0) {
		fprintf(stderr, "instcli_server: cannot start the server\n");
		return 1;
	}
	uv_signal_init(&loop, &s.sigterm);
	uv_signal_init(&loop, &s.sigint);
	s.sigterm.data = s.sigint.data = &s;
	uv_signal_start(&s.sigterm, srv_on_signal, SIGTERM);
	uv_signal_start(&s.sigint, srv_on_signal, SIGINT);
	printf("PORT %d\n", ntohs(a.sin_port));
	fflush(stdout);
	uv_run(&loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(&loop) == 0 ? 0 : 1;
	cJSON_Delete(s.instances);
	return rc;
}
