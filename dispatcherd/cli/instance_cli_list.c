/*
 * instance_cli_list.c - `instance list [-header]` (spec/dispatcher.md 7.3): GET
 * /arvados/v1/dispatch/instances on every InternalURLs entry, one tab-separated line per
 * instance view (5.1), byte for byte as the reference prints them:
 *
 *   instance  address  state  idle-behavior  config-type  provider-type  price  running-containers
 *
 * with `-` for an empty instance ID or address and for no running containers, the price as
 * printf's "%f" (Go's "%f": six decimals). Fields are matched case-insensitively and a
 * missing or null field is the zero value, as Go's encoding/json decodes them; a field of the
 * wrong type fails the whole response before any of its lines is printed, as Go's decoder.
 *
 * Unlike the reference, a non-200 answer is an error with the server's message (the reference
 * decodes any body, so a 404 with a JSON error printed nothing and exited 0).
 */
#include "instance_cli_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define ICLI_INSTANCES_PATH "/arvados/v1/dispatch/instances"

static const char *
icli_json_type(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "bool";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsArray(v))
		return "array";
	return "object";
}

/* A string field of an instance view: "" when the item or the field is null or absent. */
static int
icli_str_field(const cJSON *it, const char *key, const char **out, char *why, size_t whylen)
{
	const cJSON *v = cJSON_IsObject(it) ? cJSON_GetObjectItem(it, key) : NULL;

	*out = "";
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		snprintf(why, whylen, "cannot unmarshal %s into field %s of type string",
			 icli_json_type(v), key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* running_container_uuids joined with ","; "-" when none. */
static int
icli_running(const cJSON *it, FILE *line, char *why, size_t whylen)
{
	const cJSON *v = cJSON_IsObject(it) ? cJSON_GetObjectItem(it, "running_container_uuids")
					    : NULL;
	const cJSON *e;
	int n = 0;

	if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsArray(v)) {
		snprintf(why, whylen,
			 "cannot unmarshal %s into field running_container_uuids of type []string",
			 icli_json_type(v));
		return -1;
	}
	cJSON_ArrayForEach(e, v)
	{
		const char *s = "";
		if (!cJSON_IsNull(e) && !cJSON_IsString(e)) {
			snprintf(why, whylen,
				 "cannot unmarshal %s into field running_container_uuids of type "
				 "string",
				 icli_json_type(e));
			return -1;
		}
		if (cJSON_IsString(e))
			s = e->valuestring;
		fprintf(line, "%s%s", n++ ? "," : "", s);
	}
	if (n == 0)
		fputs("-", line);
	return 0;
}

/* One line into f; -1 with why on a field of the wrong type. */
static int
icli_format_item(const cJSON *it, FILE *f, char *why, size_t whylen)
{
	static const char *const keys[] = { "instance",
					    "address",
					    "worker_state",
					    "idle_behavior",
					    "arvados_instance_type",
					    "provider_instance_type" };
	const char *v[6];
	double price = 0;

	if (it != NULL && !cJSON_IsNull(it) && !cJSON_IsObject(it)) {
		snprintf(why, whylen, "cannot unmarshal %s into an instance view",
			 icli_json_type(it));
		return -1;
	}
	for (size_t i = 0; i < 6; i++)
		if (icli_str_field(it, keys[i], &v[i], why, whylen) < 0)
			return -1;
	const cJSON *p = cJSON_IsObject(it) ? cJSON_GetObjectItem(it, "price") : NULL;
	if (p != NULL && !cJSON_IsNull(p) && !cJSON_IsNumber(p)) {
		snprintf(why, whylen, "cannot unmarshal %s into field price of type float64",
			 icli_json_type(p));
		return -1;
	}
	if (cJSON_IsNumber(p))
		price = p->valuedouble;
	fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%f\t", v[0][0] ? v[0] : "-", v[1][0] ? v[1] : "-", v[2],
		v[3], v[4], v[5], price);
	if (icli_running(it, f, why, whylen) < 0)
		return -1;
	fputc('\n', f);
	return 0;
}

int
icli_format_response(const char *body, size_t len, char **text, char *why, size_t whylen)
{
	size_t tlen = 0;
	FILE *f = open_memstream(text, &tlen);
	int rc = -1;

	if (f == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
	const cJSON *items = cJSON_IsObject(j) ? cJSON_GetObjectItem(j, "items") : NULL, *it;
	if (j == NULL)
		snprintf(why, whylen, "not a JSON document");
	else if (!cJSON_IsObject(j) && !cJSON_IsNull(j))
		snprintf(why, whylen, "cannot unmarshal %s into the instance list",
			 icli_json_type(j));
	else if (items != NULL && !cJSON_IsNull(items) && !cJSON_IsArray(items))
		snprintf(why, whylen, "cannot unmarshal %s into field items",
			 icli_json_type(items));
	else {
		rc = 0;
		cJSON_ArrayForEach(it, items) if ((rc = icli_format_item(it, f, why, whylen)) <
						  0) break;
	}
	cJSON_Delete(j);
	if (fclose(f) != 0 && rc == 0) {
		snprintf(why, whylen, "out of memory");
		rc = -1;
	}
	if (rc < 0) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

int
icli_list(const struct cfg_cluster *c, bool header, FILE *out, FILE *err)
{
	if (header)
		fputs("instance\taddress\tstate\tidle-behavior\tconfig-type\tprovider-type\tprice\t"
		      "running-containers\n",
		      out);
	for (size_t i = 0; i < c->n_dispatch_internal_urls; i++) {
		struct icli_reply r;
		char why[256], *text = NULL;

		if (icli_http("GET", c->dispatch_internal_urls[i].url, ICLI_INSTANCES_PATH, "",
			      c->management_token, &r) < 0) {
			fprintf(err, "error doing API request: %s\n", r.error);
			return 1;
		}
		if (r.status != 200) {
			char *msg = icli_error_message(r.body, r.len);
			fprintf(err, "error doing API request: %s (%s)%s%s\n", r.status_text,
				r.host, msg ? ": " : "", msg ? msg : "");
			free(msg);
			icli_reply_free(&r);
			return 1;
		}
		int rc = icli_format_response(r.body, r.len, &text, why, sizeof(why));
		icli_reply_free(&r);
		if (rc < 0) {
			fprintf(err, "error decoding API response: %s\n", why);
			return 1;
		}
		fputs(text, out);
		free(text);
	}
	return 0;
}
