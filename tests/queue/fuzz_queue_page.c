/*
 * fuzz_queue_page.c - libFuzzer target: arbitrary bytes as an API server's container list
 * page, through what the queue does with one (dispatcherd/queue): the API client's exact JSON
 * parse (api_json_parse), every item applied as a poll applies it (queue_apply_item: uuid,
 * state, priority, created_at, runtime constraints, the instance-type choice, the compact
 * record), applied again as "mine" (the update path), then each item as the answer to a
 * mounts fetch and to a lock (queue_apply_mounts, queue_apply_op_response); then everything
 * the management API renders from the mirror (queue_view, queue_ent_container_json,
 * queue_dump_json). Nothing is sent: the queue's API client (pointed at 127.0.0.1:9, never
 * used) gets no request, since the queue has no identity (the unsatisfiable-cancel path stops
 * before a request) and the loop never runs a poll or a mounts fetch.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "api_client.h"
#include "api_json.h"
#include "config.h"
#include "instance_types.h"
#include "log.h"
#include "queue.h"
#include "queue_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct cfg_cluster *cl;
static struct itypes_table *itypes;
static struct api_client *api;

static void
setup(void)
{
	struct cfg_diags d = { 0 };
	struct api_client_opts ao;
	char *err = NULL;

	log_init("fuzz", LOG_FMT_TEXT, LOG_LVL_FATAL);
	uv_loop_init(&loop);
	cl = cfg_load(FUZZ_QUEUE_CONFIG, &d);
	if (cl == NULL || itypes_table_new(cl, &itypes) != 0)
		abort();
	api_client_opts_from_cfg(cl, &ao);
	ao.controller_url = "https://127.0.0.1:9";
	if (api_client_new(&loop, &ao, &api, &err) != 0)
		abort();
	cfg_diags_free(&d);
}

static void
closed(void *arg)
{
	*(bool *)arg = true;
}

static void
apply_all(struct queue *q, const cJSON *items)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) if (queue_apply_item(q, it, QSRC_AVAIL) != 0) return;
	cJSON_ArrayForEach(it, items) if (queue_apply_item(q, it, QSRC_MINE) != 0) return;
	cJSON_ArrayForEach(it, items)
	{
		const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "uuid"));
		struct queue_ent *e = u ? queue_get(q, u) : NULL;

		if (e != NULL) {
			queue_apply_mounts(q, e, it);
			queue_apply_op_response(q, e, it);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_opts o = { 0 };
	struct queue *q;
	struct queue_ent *const *v;
	struct queue_stats st;
	cJSON *body = NULL;
	bool done = false;
	size_t n;

	if (cl == NULL)
		setup();
	if (api_json_parse((const char *)data, size, &body, NULL) != 0)
		return 0;
	o.loop = &loop;
	o.api = api;
	o.cluster = cl;
	o.itypes = itypes;
	if (queue_new(&o, &q) != 0)
		abort();
	apply_all(q, cJSON_GetObjectItemCaseSensitive(body, "items"));
	v = queue_view(q, &n);
	if (n != queue_count(q))
		abort();
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(queue_ent_container_json(v[i], queue_identity(q)));
	free(queue_dump_json(q));
	queue_stats(q, &st);
	queue_free(q, closed, &done);
	while (!done)
		uv_run(&loop, UV_RUN_NOWAIT); /* the queue's handles close */
	cJSON_Delete(body);
	return 0;
}
