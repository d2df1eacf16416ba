/* queue_cond.c - one log line per error condition, not one per poll: a failure is logged when
 * it starts or when its kind changes (another errno or HTTP status), and its end is logged
 * once with how many times it happened. Texts differ between occurrences (request ids), so
 * the kind, not the text, decides. */
#include "queue_internal.h"

int64_t
queue_cond_key(int err, long status)
{
	return (int64_t)err * 1000 - (int64_t)status;
}

bool
queue_cond_fail(struct queue_cond *c, int64_t key, enum log_level lvl, const char *msg,
		const char *err, const char *uuid)
{
	bool log = !c->active || c->key != key;

	if (log && uuid != NULL)
		log_kv_err(lvl, msg, err, LF_STR("ContainerUUID", uuid));
	else if (log)
		log_emit_err(lvl, msg, err, (const struct log_field[]){ LF_END });
	if (log)
		c->count = 0;
	c->active = true;
	c->key = key;
	c->count++;
	return log;
}

void
queue_cond_ok(struct queue_cond *c, const char *msg)
{
	if (!c->active)
		return;
	log_kv(LOG_LVL_INFO, msg, LF_INT("Failures", c->count));
	c->active = false;
	c->count = 0;
}
