/* api_params.c - see api_params.h. */
#include "api_params.h"
#include "api_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api_param {
	char *name;
	char *value;
	size_t seq; /* insertion order, to keep sorting stable */
};

struct api_params {
	struct api_param *v;
	size_t n, cap;
};

struct api_params *
api_params_new(void)
{
	return calloc(1, sizeof(struct api_params));
}

void
api_params_free(struct api_params *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	free(p);
}

/* Takes value (heap) in every case. */
static int
api_params_push(struct api_params *p, const char *name, char *value)
{
	if (name == NULL || name[0] == '\0') {
		free(value);
		return -EINVAL;
	}
	if (value == NULL)
		return -ENOMEM;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct api_param *v = realloc(p->v, cap * sizeof(*v));
		if (v == NULL) {
			free(value);
			return -ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	char *n = strdup(name);
	if (n == NULL) {
		free(value);
		return -ENOMEM;
	}
	p->v[p->n] = (struct api_param){ .name = n, .value = value, .seq = p->n };
	p->n++;
	return 0;
}

int
api_params_add_str(struct api_params *p, const char *name, const char *value)
{
	if (value == NULL)
		return (name == NULL || name[0] == '\0') ? -EINVAL : 0;
	return api_params_push(p, name, strdup(value));
}

int
api_params_add_int(struct api_params *p, const char *name, int64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, value);
	return api_params_push(p, name, strdup(buf));
}

int
api_params_add_bool(struct api_params *p, const char *name, bool value)
{
	if (!value)
		return (name == NULL || name[0] == '\0') ? -EINVAL : 0;
	return api_params_push(p, name, strdup("true"));
}

/* A JSON number as Go's encoder writes it for the integers the API takes: plain decimal. */
static char *
api_params_number(const cJSON *v)
{
	int64_t i;
	char buf[40];

	if (api_json_int64(v, &i) == 0)
		snprintf(buf, sizeof(buf), "%" PRId64, i);
	else if (isfinite(v->valuedouble))
		snprintf(buf, sizeof(buf), "%.17g", v->valuedouble);
	else
		return NULL;
	/* %.17g can carry noise digits; prefer the shortest text that reads back the same. */
	for (int prec = 1; prec < 17 && strchr(buf, '.') != NULL; prec++) {
		char shorter[40];
		snprintf(shorter, sizeof(shorter), "%.*g", prec, v->valuedouble);
		if (strtod(shorter, NULL) == v->valuedouble) {
			memcpy(buf, shorter, sizeof(buf));
			break;
		}
	}
	return strdup(buf);
}

int
api_params_add_json(struct api_params *p, const char *name, const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v))
		return (name == NULL || name[0] == '\0') ? -EINVAL : 0;
	if (cJSON_IsString(v))
		return api_params_add_str(p, name, v->valuestring);
	if (cJSON_IsBool(v))
		return api_params_add_bool(p, name, cJSON_IsTrue(v));
	if (cJSON_IsNumber(v)) {
		char *s = api_params_number(v);
		if (s == NULL && name != NULL && name[0] != '\0')
			return -EINVAL;
		return api_params_push(p, name, s);
	}
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return -EINVAL;
	return api_params_push(p, name, api_json_go_escape(api_json_print(v)));
}

int
api_params_add_object(struct api_params *p, const cJSON *obj)
{
	const cJSON *m;

	if (!cJSON_IsObject(obj))
		return -EINVAL;
	cJSON_ArrayForEach(m, obj)
	{
		int r = api_params_add_json(p, m->string, m);
		if (r != 0)
			return r;
	}
	return 0;
}

size_t
api_params_escape(const char *s, char *buf, size_t cap, size_t pos)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		char tmp[3];
		size_t k = 1;
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' || *c == '~') {
			tmp[0] = (char)*c;
		} else if (*c == ' ') {
			tmp[0] = '+';
		} else {
			tmp[0] = '%';
			tmp[1] = hex[*c >> 4];
			tmp[2] = hex[*c & 15];
			k = 3;
		}
		for (size_t j = 0; j < k; j++, n++)
			if (pos + n < cap)
				buf[pos + n] = tmp[j];
	}
	return n;
}

static int
api_params_cmp(const void *a, const void *b)
{
	const struct api_param *x = *(const struct api_param *const *)a;
	const struct api_param *y = *(const struct api_param *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
api_params_encode(const struct api_params *p, char **out, size_t *len)
{
	size_t need = 0, pos = 0;
	const struct api_param **v;
	char *buf;

	/* Go's url.Values.Encode sorts by name; sorting too keeps the same bytes on the wire. */
	v = malloc((p->n ? p->n : 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++)
		v[i] = &p->v[i];
	qsort(v, p->n, sizeof(*v), api_params_cmp);
	for (size_t i = 0; i < p->n; i++)
		need += api_params_escape(v[i]->name, NULL, 0, 0) + 1 +
			api_params_escape(v[i]->value, NULL, 0, 0) + (i > 0);
	buf = malloc(need + 1);
	if (buf == NULL) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (i > 0)
			buf[pos++] = '&';
		pos += api_params_escape(v[i]->name, buf, need, pos);
		buf[pos++] = '=';
		pos += api_params_escape(v[i]->value, buf, need, pos);
	}
	free(v);
	buf[pos] = '\0';
	*out = buf;
	*len = pos;
	return 0;
}
