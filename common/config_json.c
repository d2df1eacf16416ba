/*
 * config_json.c - YAML nodes as JSON (cJSON), the way the reference turns its YAML config into
 * JSON: plain scalars that are YAML 1.1 booleans, nulls, integers or floats become those JSON
 * types; everything quoted, and every other plain scalar, is a string. Integers are emitted
 * from their digits (cJSON raw), so large ones stay exact.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "util.h"

int
cfg_plain_bool(const char *s)
{
	static const char *const yes[] = { "y",	   "Y",	   "yes", "Yes", "YES", "true",
					   "True", "TRUE", "on",  "On",	 "ON",	NULL };
	static const char *const no[] = { "n",	   "N",	    "no",  "No",  "NO",	 "false",
					  "False", "FALSE", "off", "Off", "OFF", NULL };

	for (size_t i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i]))
			return 1;
	for (size_t i = 0; no[i]; i++)
		if (!strcmp(s, no[i]))
			return 0;
	return -1;
}

static cJSON *
json_int(const char *s)
{
	char buf[32], *end;
	long long v;

	const char *digits = s + (*s == '+' || *s == '-');

	if (!*digits || strspn(digits, "0123456789") != strlen(digits))
		return NULL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return cJSON_CreateNumber(strtod(s, NULL));
	snprintf(buf, sizeof(buf), "%lld", v);
	return cJSON_CreateRaw(buf);
}

static cJSON *
json_plain(const char *s)
{
	char *end;
	double d;
	int b;
	cJSON *j;

	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return cJSON_CreateNull();
	if ((b = cfg_plain_bool(s)) >= 0)
		return cJSON_CreateBool(b);
	if ((j = json_int(s)) != NULL)
		return j;
	errno = 0;
	d = strtod(s, &end);
	/* Only decimal floats: strtod would also take "inf", "nan" and hex. */
	if (end != s && !*end && errno != ERANGE && isfinite(d) && strpbrk(s, "0123456789") &&
	    !strpbrk(s, "xXnN"))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

static cJSON *
json_scalar(struct fy_node *n)
{
	char *s = cfg_scalar_dup(n);
	cJSON *j;

	if (!s)
		return cJSON_CreateNull();
	j = fy_node_get_style(n) == FYNS_PLAIN ? json_plain(s) : cJSON_CreateString(s);
	adc_free_secret_str(s);
	return j;
}

static cJSON *
json_mapping(struct fy_node *n)
{
	cJSON *o = cJSON_CreateObject();
	struct fy_node_pair *p;
	void *it = NULL;

	while (o && (p = fy_node_mapping_iterate(n, &it))) {
		char *k = cfg_scalar_dup(fy_node_pair_key(p));
		cJSON *v = k ? cfg_yaml_to_json(fy_node_pair_value(p)) : NULL;
		if (k && v)
			cJSON_AddItemToObject(o, k, v);
		else if (k) {
			cfg_json_wipe_delete(o);
			o = NULL;
		}
		free(k);
	}
	return o;
}

cJSON *
cfg_yaml_to_json(struct fy_node *n)
{
	struct fy_node *item;
	void *it = NULL;
	cJSON *a;

	if (!n || fy_node_is_alias(n))
		return cJSON_CreateNull();
	switch (fy_node_get_type(n)) {
	case FYNT_MAPPING:
		return json_mapping(n);
	case FYNT_SEQUENCE:
		a = cJSON_CreateArray();
		while (a && (item = fy_node_sequence_iterate(n, &it))) {
			cJSON *v = cfg_yaml_to_json(item);
			if (!v) {
				cfg_json_wipe_delete(a);
				return NULL;
			}
			cJSON_AddItemToArray(a, v);
		}
		return a;
	default:
		return json_scalar(n);
	}
}

static void
json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			adc_wipe(j->valuestring, strlen(j->valuestring));
		if (j->string)
			adc_wipe(j->string, strlen(j->string));
		j->valuedouble = 0;
		j->valueint = 0;
		json_wipe(j->child);
	}
}

void
cfg_json_wipe_delete(cJSON *j)
{
	if (!j)
		return;
	json_wipe(j);
	cJSON_Delete(j);
}
