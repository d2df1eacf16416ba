/* drv.c - small helpers around the driver interface types. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv.h"

void
drv_error_set(struct drv_error *e, enum drv_err_class cls, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

const char *
drv_err_class_name(enum drv_err_class c)
{
	switch (c) {
	case DRV_OK:
		return "ok";
	case DRV_ERR_RATE_LIMIT:
		return "rate-limit";
	case DRV_ERR_QUOTA:
		return "quota";
	case DRV_ERR_CAPACITY:
		return "capacity";
	case DRV_ERR_OTHER:
		return "other";
	}
	return "?";
}

int
drv_tags_add(struct drv_tags *t, const char *key, const char *value)
{
	struct drv_tag *nv;
	char *k, *v;

	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].key, key) == 0) {
			v = strdup(value);
			if (!v)
				return -ENOMEM;
			free(t->v[i].value);
			t->v[i].value = v;
			return 0;
		}
	}
	nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->v = nv;
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	t->v[t->n].key = k;
	t->v[t->n].value = v;
	t->n++;
	return 0;
}

int
drv_tags_copy(struct drv_tags *dst, const struct drv_tags *src)
{
	dst->v = NULL;
	dst->n = 0;
	for (size_t i = 0; src && i < src->n; i++) {
		if (drv_tags_add(dst, src->v[i].key, src->v[i].value) < 0) {
			drv_tags_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

const char *
drv_tags_get(const struct drv_tags *t, const char *key)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return t->v[i].value;
	return NULL;
}

void
drv_tags_free(struct drv_tags *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

void
drv_instance_free(struct drv_instance *i)
{
	free(i->id);
	free(i->provider_type);
	free(i->address);
	free(i->subnet_id);
	free(i->state);
	free(i->az);
	free(i->host_key);
	drv_tags_free(&i->tags);
	memset(i, 0, sizeof(*i));
}

int
drv_price_history_none(struct drv *d, const struct drv_instance *inst, const struct drv_itype *t,
		       struct drv_price **out, size_t *n)
{
	(void)d;
	(void)inst;
	(void)t;
	*out = NULL;
	*n = 0;
	return 0;
}
