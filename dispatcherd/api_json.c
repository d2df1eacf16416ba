/* api_json.c - see api_json.h. */
#include "api_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Doubles hold every integer of magnitude up to 2^53 exactly. */
#define API_JSON_EXACT_LIMIT 9007199254740992.0

/*
 * Number literals of the raw text, in document order. This is not a JSON parser: it runs only
 * on text cJSON has already accepted, and merely skips strings to find where each number
 * literal starts and ends. cJSON keeps members and items in document order, so the k-th literal
 * is the k-th number node of a pre-order walk.
 */
struct api_json_lit {
	const char *p;
	size_t n;
};

struct api_json_lits {
	struct api_json_lit *v;
	size_t n, cap;
};

static int
api_json_lits_push(struct api_json_lits *l, const char *p, size_t n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct api_json_lit *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].p = p;
	l->v[l->n].n = n;
	l->n++;
	return 0;
}

static size_t
api_json_skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++)
		if (t[i] == '\\')
			i++;
	return i + 1;
}

static int
api_json_scan(const char *t, size_t len, struct api_json_lits *l)
{
	size_t i = 0;

	while (i < len) {
		char c = t[i];
		if (c == '"') {
			i = api_json_skip_string(t, len, i);
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t s = i;
			while (i < len && strchr("0123456789+-.eE", t[i]) != NULL && t[i] != '\0')
				i++;
			if (api_json_lits_push(l, t + s, i - s) != 0)
				return -ENOMEM;
		} else {
			i++;
		}
	}
	return 0;
}

static bool
api_json_lit_is_int(const struct api_json_lit *x)
{
	size_t i = (x->n > 0 && x->p[0] == '-') ? 1 : 0;

	if (i == x->n)
		return false;
	for (; i < x->n; i++)
		if (x->p[i] < '0' || x->p[i] > '9')
			return false;
	return true;
}

/* Keep the literal's text on the node when the double is not exact. */
static int
api_json_fix_number(cJSON *item, const struct api_json_lit *x)
{
	if (!api_json_lit_is_int(x) || fabs(item->valuedouble) < API_JSON_EXACT_LIMIT)
		return 0;
	char *s = malloc(x->n + 1);
	if (s == NULL)
		return -ENOMEM;
	memcpy(s, x->p, x->n);
	s[x->n] = '\0';
	item->valuestring = s;
	return 0;
}

static int
api_json_walk(cJSON *item, const struct api_json_lits *l, size_t *k)
{
	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item)) {
			if (*k >= l->n)
				return -EBADMSG;
			int r = api_json_fix_number(item, &l->v[(*k)++]);
			if (r != 0)
				return r;
		} else if (item->child != NULL) {
			int r = api_json_walk(item->child, l, k);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

/* cJSON may leave end on the last whitespace byte; what follows the value must be blank. */
static bool
api_json_only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

int
api_json_parse(const char *text, size_t len, cJSON **out, size_t *where)
{
	const char *end = NULL;
	struct api_json_lits l = { 0 };
	size_t k = 0;
	int r;

	*out = NULL;
	if (where != NULL)
		*where = 0;
	/* cJSON reads up to the NUL; an embedded NUL would silently truncate the document. */
	if (memchr(text, '\0', len) != NULL) {
		if (where != NULL)
			*where = (size_t)((const char *)memchr(text, '\0', len) - text);
		return -EBADMSG;
	}
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	size_t used = end != NULL ? (size_t)(end - text) : 0;

	if (used > len)
		used = len;
	if (root == NULL || !api_json_only_space(text + used, len - used)) {
		if (where != NULL)
			*where = used;
		cJSON_Delete(root);
		return -EBADMSG;
	}
	r = api_json_scan(text, len, &l);
	if (r == 0)
		r = api_json_walk(root, &l, &k);
	if (r == 0 && k != l.n)
		r = -EBADMSG;
	free(l.v);
	if (r != 0) {
		cJSON_Delete(root);
		return r;
	}
	*out = root;
	return 0;
}

int
api_json_int64(const cJSON *item, int64_t *out)
{
	if (!cJSON_IsNumber(item))
		return -EINVAL;
	if (item->valuestring != NULL) {
		char *end;
		errno = 0;
		long long v = strtoll(item->valuestring, &end, 10);
		if (errno != 0 || *end != '\0')
			return -ERANGE;
		*out = v;
		return 0;
	}
	double d = item->valuedouble;
	if (d != floor(d) || fabs(d) > API_JSON_EXACT_LIMIT)
		return -ERANGE;
	*out = (int64_t)d;
	return 0;
}

int
api_json_get_int64(const cJSON *obj, const char *name, int64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (item == NULL)
		return -ENOENT;
	return api_json_int64(item, out);
}

cJSON *
api_json_new_int64(int64_t v)
{
	cJSON *n = cJSON_CreateNumber((double)v);

	if (n == NULL || (v < 0 ? -(double)v : (double)v) < API_JSON_EXACT_LIMIT)
		return n;
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	n->valuestring = strdup(buf);
	if (n->valuestring == NULL) {
		cJSON_Delete(n);
		return NULL;
	}
	return n;
}

static bool
api_json_has_exact(const cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item) && item->valuestring != NULL)
			return true;
		if (item->child != NULL && api_json_has_exact(item->child))
			return true;
	}
	return false;
}

/* A number node that carries its exact text becomes a raw node, which cJSON prints
 * verbatim; cJSON_Delete frees a raw node's valuestring as it would the number's. */
static void
api_json_to_raw(cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item) && item->valuestring != NULL)
			item->type = cJSON_Raw | (item->type & cJSON_StringIsConst);
		else if (item->child != NULL)
			api_json_to_raw(item->child);
	}
}

char *
api_json_print(const cJSON *v)
{
	cJSON *dup;
	char *out;

	if (cJSON_IsNumber(v) ? v->valuestring == NULL : !api_json_has_exact(v->child))
		return cJSON_PrintUnformatted(v);
	dup = cJSON_Duplicate(v, 1);
	if (dup == NULL)
		return NULL;
	api_json_to_raw(dup);
	out = cJSON_PrintUnformatted(dup);
	cJSON_Delete(dup);
	return out;
}

char *
api_json_go_escape(char *s)
{
	size_t extra = 0, n;
	char *out, *o;

	if (s == NULL)
		return NULL;
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '<' || *c == '>' || *c == '&')
			extra += 5;                     /* "\u003c" is 6 bytes for 1 */
		else if ((unsigned char)c[0] == 0xe2 && (unsigned char)c[1] == 0x80 &&
			 ((unsigned char)c[2] == 0xa8 || (unsigned char)c[2] == 0xa9))
			extra += 3;                     /* 3 UTF-8 bytes become 6 */
	}
	if (extra == 0)
		return s;
	n = strlen(s);
	if ((out = malloc(n + extra + 1)) == NULL) {
		free(s);
		return NULL;
	}
	o = out;
	for (const char *c = s; *c != '\0'; c++) {
		const unsigned char *u = (const unsigned char *)c;
		if (*c == '<' || *c == '>' || *c == '&') {
			o += sprintf(o, "\\u%04x", (unsigned)*u);
		} else if (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
			o += sprintf(o, "\\u%04x", u[2] == 0xa8 ? 0x2028u : 0x2029u);
			c += 2;
		} else {
			*o++ = *c;
		}
	}
	*o = '\0';
	free(s);
	return out;
}
