/*
 * config_types.c - typed reads of config values from libfyaml nodes.
 *
 * The reference decodes YAML into JSON and then into typed Go fields, so a quoted "8" is a
 * string where an int is wanted (an error), while plain scalars are numbers or booleans.
 * Booleans follow YAML 1.1 as Go's yaml.v2 does (yes/no/on/off too). A value of the wrong
 * type is an error naming the key and its position; the default is kept.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

struct fy_node *
cfg_lookup(struct fy_node *base, const char *rel, struct fy_node **keyp)
{
	struct fy_node *n = base, *key = NULL;
	const char *s = rel;

	while (n && *s) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);
		struct fy_node_pair *p;

		if (fy_node_get_type(n) != FYNT_MAPPING)
			return NULL;
		p = fy_node_mapping_lookup_pair_by_string(n, s, len);
		if (!p)
			return NULL;
		key = fy_node_pair_key(p);
		n = fy_node_pair_value(p);
		s = dot ? dot + 1 : s + len;
	}
	if (keyp)
		*keyp = key;
	return n;
}

static bool
cfg_is_plain(struct fy_node *n)
{
	return fy_node_get_type(n) == FYNT_SCALAR && fy_node_get_style(n) == FYNS_PLAIN;
}

bool
cfg_node_is_null(struct fy_node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t len;
	const char *s;

	if (!n)
		return true;
	if (!cfg_is_plain(n))
		return false;
	s = fy_node_get_scalar(n, &len);
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (s && strlen(nulls[i]) == len && memcmp(nulls[i], s, len) == 0)
			return true;
	return !s;
}

char *
cfg_scalar_dup(struct fy_node *n)
{
	size_t len;
	const char *s;
	char *r;

	if (!n || fy_node_get_type(n) != FYNT_SCALAR)
		return NULL;
	s = fy_node_get_scalar(n, &len);
	if (!s || memchr(s, '\0', len))
		return NULL;
	r = malloc(len + 1);
	if (!r)
		return NULL;
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

static const char *
cfg_kind(struct fy_node *n)
{
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING:
		return "a mapping";
	case FYNT_SEQUENCE:
		return "a sequence";
	default:
		return fy_node_is_alias(n) ? "an alias (not supported)" : "a scalar";
	}
}

/* The scalar text of v, or an error diag saying what was expected. */
static char *
cfg_need_scalar(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
		const char *what)
{
	char *s;

	if (fy_node_get_type(v) != FYNT_SCALAR || fy_node_is_alias(v)) {
		cfg_report(x, true, rel, k, v, "expected %s, found %s", what, cfg_kind(v));
		return NULL;
	}
	s = cfg_scalar_dup(v);
	if (!s)
		cfg_report(x, true, rel, k, v, "expected %s, found a value with a NUL byte", what);
	return s;
}

int
cfg_node_str(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v, char **out)
{
	char *s;

	if (!v || (cfg_is_plain(v) && cfg_node_is_null(v)))
		s = strdup("");
	else if (!(s = cfg_need_scalar(x, rel, k, v, "a string")))
		return -1;
	if (!s)
		return -1;
	free(*out);
	*out = s;
	return 0;
}

static int
cfg_parse_int(const char *s, int64_t *out)
{
	int64_t v = 0;
	int neg = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, neg ? -(*s - '0') : (*s - '0'), &v))
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int
cfg_node_int(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v, int64_t *out)
{
	char *s = cfg_need_scalar(x, rel, k, v, "an integer");
	int rc;

	if (!s)
		return -1;
	rc = cfg_is_plain(v) ? cfg_parse_int(s, out) : -EINVAL;
	if (rc == -ERANGE)
		cfg_report(x, true, rel, k, v, "integer out of range: %s", s);
	else if (rc < 0)
		cfg_report(x, true, rel, k, v, "expected an integer, found \"%s\"", s);
	free(s);
	return rc < 0 ? -1 : 0;
}

int
cfg_node_float(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
	       double *out)
{
	char *s = cfg_need_scalar(x, rel, k, v, "a number"), *end;
	double d;

	if (!s)
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (!cfg_is_plain(v) || end == s || *end || errno == ERANGE || !isfinite(d)) {
		cfg_report(x, true, rel, k, v, "expected a number, found \"%s\"", s);
		free(s);
		return -1;
	}
	free(s);
	*out = d;
	return 0;
}

int
cfg_node_bool(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v, bool *out)
{
	char *s = cfg_need_scalar(x, rel, k, v, "a boolean");
	int r;

	if (!s)
		return -1;
	r = cfg_is_plain(v) ? cfg_plain_bool(s) : -1;
	if (r < 0)
		cfg_report(x, true, rel, k, v, "expected true or false, found \"%s\"", s);
	else
		*out = r;
	free(s);
	return r < 0 ? -1 : 0;
}

static int
cfg_node_duration(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
		  cfg_duration_ns *out)
{
	char *s = cfg_need_scalar(x, rel, k, v, "a duration");
	int rc;

	if (!s)
		return -1;
	rc = cfg_parse_duration(s, out);
	if (rc == -ERANGE)
		cfg_report(x, true, rel, k, v, "duration out of range: \"%s\"", s);
	else if (rc < 0)
		cfg_report(x, true, rel, k, v, "invalid duration \"%s\" (use e.g. 30s, 5m, 1h30m)",
			   s);
	free(s);
	return rc < 0 ? -1 : 0;
}

int
cfg_node_bytesize(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
		  int64_t *out)
{
	char *s = cfg_need_scalar(x, rel, k, v, "a byte size");
	int rc;

	if (!s)
		return -1;
	rc = cfg_parse_bytesize(s, out);
	if (rc == -ERANGE)
		cfg_report(x, true, rel, k, v, "byte size out of range: \"%s\"", s);
	else if (rc < 0)
		cfg_report(x, true, rel, k, v, "invalid byte size \"%s\" (use e.g. 512MiB, 16GB)",
			   s);
	free(s);
	return rc < 0 ? -1 : 0;
}

/* The file's value of rel, or the default's when the file has none (or null). */
static struct fy_node *
cfg_pick(struct cfg_ctx *x, const char *rel, struct fy_node **k)
{
	struct fy_node *v = cfg_lookup(x->cluster, rel, k);

	if (!cfg_node_is_null(v))
		return v;
	*k = NULL;
	return cfg_lookup(x->defaults, rel, k);
}

#define CFG_GETTER(name, type, conv)                                 \
	int name(struct cfg_ctx *x, const char *rel, type *out)      \
	{                                                            \
		struct fy_node *k = NULL, *v = cfg_pick(x, rel, &k); \
		if (!v)                                              \
			return 0;                                    \
		return conv(x, rel, k, v, out);                      \
	}

CFG_GETTER(cfg_get_str, char *, cfg_node_str)
CFG_GETTER(cfg_get_int, int64_t, cfg_node_int)
CFG_GETTER(cfg_get_float, double, cfg_node_float)
CFG_GETTER(cfg_get_bool, bool, cfg_node_bool)
CFG_GETTER(cfg_get_duration, cfg_duration_ns, cfg_node_duration)
CFG_GETTER(cfg_get_bytesize, int64_t, cfg_node_bytesize)
