/* api_identity.c - see api_identity.h. */
#include "api_identity.h"

#include <errno.h>
#include <stdlib.h>

struct api_identity_req {
	api_identity_cb cb;
	void *arg;
};

static void
api_identity_done(void *arg, struct api_result *r)
{
	struct api_identity_req q = *(struct api_identity_req *)arg;
	const cJSON *uuid;

	free(arg);
	if (r->err != 0) {
		q.cb(q.arg, r->err, NULL, r->error);
		return;
	}
	uuid = cJSON_GetObjectItemCaseSensitive(r->body, "uuid");
	if (!cJSON_IsString(uuid) || uuid->valuestring[0] == '\0') {
		q.cb(q.arg, -EBADMSG, NULL,
		     "api_client_authorizations/current: the response has no uuid");
		return;
	}
	q.cb(q.arg, 0, uuid->valuestring, NULL);
}

int
api_identity_fetch(struct api_client *c, api_identity_cb cb, void *arg)
{
	struct api_identity_req *q = malloc(sizeof(*q));
	int rc;

	if (q == NULL)
		return -ENOMEM;
	q->cb = cb;
	q->arg = arg;
	rc = api_call(c, "GET", "arvados/v1/api_client_authorizations/current", NULL,
		      api_identity_done, q);
	if (rc != 0)
		free(q);
	return rc;
}
