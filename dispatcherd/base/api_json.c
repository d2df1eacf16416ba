/* api_json.c - see api_json.h. */
#include "api_json.h"
#include "api_json_arena.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Doubles hold every integer of magnitude up to 2^53 exactly. */
#define API_JSON_EXACT_LIMIT 9007199254740992.0
/* From here on cJSON may print an integer in exponent form (see api_json_new_int64). */
#define API_JSON_DIGITS_LIMIT 1e15

/*
 * Number literals of the raw text, in document order. This is not a JSON parser: it runs only
 * on text cJSON has already accepted, and merely skips strings to find where each number
 * literal starts and ends. cJSON keeps members and items in document order, so the k-th literal
 * is the k-th number node of a pre-order walk. The cursor moves forward only as the walk asks
 * for the next literal, so the text is read once and nothing is allocated.
 */
struct api_json_cur {
	const char *t;
	size_t len, i;
};

static bool
api_json_num_char(char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

/* The next number literal at or after the cursor; false at the end of the text. */
static bool
api_json_next_lit(struct api_json_cur *c, const char **p, size_t *n)
{
	const char *t = c->t;
	size_t i = c->i, len = c->len;

	while (i < len) {
		char ch = t[i];
		if (ch == '"') {
			for (i++; i < len && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			i++;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t s = i;
			while (i < len && api_json_num_char(t[i]))
				i++;
			*p = t + s;
			*n = i - s;
			c->i = i;
			return true;
		} else {
			i++;
		}
	}
	c->i = len;
	return false;
}

static bool
api_json_lit_is_int(const char *p, size_t n)
{
	size_t i = (n > 0 && p[0] == '-') ? 1 : 0;

	if (i == n)
		return false;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Keep the literal's text on the node when the double is not exact. */
static int
api_json_fix_number(cJSON *item, const char *p, size_t n)
{
	if (!api_json_lit_is_int(p, n) || fabs(item->valuedouble) < API_JSON_EXACT_LIMIT)
		return 0;
	char *s = malloc(n + 1);
	if (s == NULL)
		return -ENOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	item->valuestring = s;
	return 0;
}

static int
api_json_walk(cJSON *item, struct api_json_cur *c)
{
	const char *p;
	size_t n;

	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item)) {
			if (!api_json_next_lit(c, &p, &n))
				return -EBADMSG;
			int r = api_json_fix_number(item, p, n);
			if (r != 0)
				return r;
		} else if (item->child != NULL) {
			int r = api_json_walk(item->child, c);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

/* Whether any number's double may be inexact: almost never, so the text is then not read
 * again at all (a 1,000-container list page has some 15,000 numbers, all small). */
static bool
api_json_has_big(const cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if ((item->type & 0xff) == cJSON_Number) {
			if (!(fabs(item->valuedouble) < API_JSON_EXACT_LIMIT))
				return true;
		} else if (item->child != NULL && api_json_has_big(item->child)) {
			return true;
		}
	}
	return false;
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
	const char *end = NULL, *p;
	struct api_json_cur cur = { text, len, 0 };
	size_t n;
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
	/* A large body's tree from an arena (api_json_arena.h); a small one from malloc. */
	bool arena = len >= API_JSON_ARENA_MIN_TEXT && api_json_arena_open(len) == 0;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);

	if (arena)
		api_json_arena_close();
	size_t used = end != NULL ? (size_t)(end - text) : 0;

	if (used > len)
		used = len;
	if (root == NULL || !api_json_only_space(text + used, len - used)) {
		if (where != NULL)
			*where = used;
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if (!api_json_has_big(root)) {
		*out = root;
		return 0;
	}
	r = api_json_walk(root, &cur);
	if (r == 0 && api_json_next_lit(&cur, &p, &n))
		r = -EBADMSG; /* more literals than number nodes */
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

	/* cJSON prints a number with %1.15g when that reads back equal, so from 1e15 on an
	 * integer may come out as "1.12410455240422e+15": keep the digits from there, not only
	 * past 2^53 where the double itself is inexact. */
	if (n == NULL || (v < 0 ? -(double)v : (double)v) < API_JSON_DIGITS_LIMIT)
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
			extra += 5; /* "\u003c" is 6 bytes for 1 */
		else if ((unsigned char)c[0] == 0xe2 && (unsigned char)c[1] == 0x80 &&
			 ((unsigned char)c[2] == 0xa8 || (unsigned char)c[2] == 0xa9))
			extra += 3; /* 3 UTF-8 bytes become 6 */
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
