/*
 * container_resources_json.c - fill struct ctres from the API's container record (cJSON).
 *
 * Behaves like Go's encoding/json decoding into arvados.Container for the fields selection
 * reads: missing and null keep the zero value, unknown keys are ignored, and a value of the
 * wrong JSON type fails with a message in the shape of Go's UnmarshalTypeError ("json: cannot
 * unmarshal <value> into Go struct field <Struct>.<path> of type <type>"), because the mounts
 * variant ends up verbatim in the container's runtime_status.error (spec 2.5, 2.6).
 *
 * Differences from Go, all on inputs the API server never sends: key matching is exact (Go
 * also accepts other letter cases), numbers are cJSON doubles (an integer field accepts 1e3 and
 * loses precision beyond 2^53), and only the mount fields used here (kind, capacity) are
 * type-checked.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_resources.h"

/* Where the decoder is, for messages: the Go struct being filled and the JSON path to it. */
struct ctres_dec {
	char *err;
	size_t errlen;
	int code;	   /* what a type error returns: CTRES_EFIELD or CTRES_EMOUNTS */
	const char *strct; /* e.g. "RuntimeConstraints" */
	const char *path;  /* e.g. "runtime_constraints." */
};

static const char *
ctres_json_kind(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "bool";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "value";
}

static int
ctres_dec_fail(const struct ctres_dec *d, const char *value, const char *key, const char *gotype)
{
	if (d->err != NULL && d->errlen > 0)
		snprintf(d->err, d->errlen,
			 "json: cannot unmarshal %s into Go struct field %s.%s%s of type %s", value,
			 d->strct, d->path, key, gotype);
	return d->code;
}

static int
ctres_dec_type(const struct ctres_dec *d, const cJSON *v, const char *key, const char *gotype)
{
	return ctres_dec_fail(d, ctres_json_kind(v), key, gotype);
}

/* Absent and null both mean "leave the zero value" (Go treats null as a no-op). */
static const cJSON *
ctres_field(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNull(v) ? NULL : v;
}

static int
ctres_dec_int64(const struct ctres_dec *d, const cJSON *obj, const char *key, const char *gotype,
		int64_t *out)
{
	const cJSON *v = ctres_field(obj, key);
	char value[64];
	double x;

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return ctres_dec_type(d, v, key, gotype);
	x = v->valuedouble;
	/* [-2^63, 2^63) are exactly the doubles that convert to int64 without UB. */
	if (x != floor(x) || !(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) {
		snprintf(value, sizeof(value), "number %.17g", x);
		return ctres_dec_fail(d, value, key, gotype);
	}
	*out = (int64_t)x;
	return 0;
}

static int
ctres_dec_string(const struct ctres_dec *d, const cJSON *obj, const char *key, const char **out)
{
	const cJSON *v = ctres_field(obj, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v))
		return ctres_dec_type(d, v, key, "string");
	*out = v->valuestring;
	return 0;
}

static int
ctres_dec_bool(const struct ctres_dec *d, const cJSON *obj, const char *key, bool *out)
{
	const cJSON *v = ctres_field(obj, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return ctres_dec_type(d, v, key, "bool");
	*out = cJSON_IsTrue(v);
	return 0;
}

/* *out = the object at key, or NULL when absent/null. */
static int
ctres_dec_object(const struct ctres_dec *d, const cJSON *obj, const char *key, const char *gotype,
		 const cJSON **out)
{
	const cJSON *v = ctres_field(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsObject(v))
		return ctres_dec_type(d, v, key, gotype);
	*out = v;
	return 0;
}

/* hardware_target: []string; a null element is "" as in Go. */
static int
ctres_dec_targets(const struct ctres_dec *d, const cJSON *gpu, struct ctres_gpu *g)
{
	const cJSON *v = ctres_field(gpu, "hardware_target"), *e;
	size_t n = 0, i = 0;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return ctres_dec_type(d, v, "hardware_target", "[]string");
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) && !cJSON_IsNull(e))
			return ctres_dec_type(d, e, "hardware_target", "string");
		n++;
	}
	if (n == 0)
		return 0;
	if ((g->hardware_target = calloc(n, sizeof(*g->hardware_target))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(e, v) g->hardware_target[i++] = cJSON_IsString(e) ? e->valuestring : "";
	g->n_hardware_target = n;
	return 0;
}

static int
ctres_dec_gpu(char *err, size_t errlen, const cJSON *gpu, struct ctres_gpu *g)
{
	struct ctres_dec d = { err, errlen, CTRES_EFIELD, "GPURuntimeConstraints",
			       "runtime_constraints.gpu." };
	int rc;

	if ((rc = ctres_dec_string(&d, gpu, "stack", &g->stack)) != 0 ||
	    (rc = ctres_dec_string(&d, gpu, "driver_version", &g->driver_version)) != 0 ||
	    (rc = ctres_dec_int64(&d, gpu, "device_count", "int", &g->device_count)) != 0 ||
	    (rc = ctres_dec_int64(&d, gpu, "vram", "int64", &g->vram)) != 0)
		return rc;
	return ctres_dec_targets(&d, gpu, g);
}

static int
ctres_dec_constraints(char *err, size_t errlen, const cJSON *rc_obj, struct ctres *r)
{
	struct ctres_dec d = { err, errlen, CTRES_EFIELD, "RuntimeConstraints",
			       "runtime_constraints." };
	const cJSON *gpu;
	int rc;

	if ((rc = ctres_dec_int64(&d, rc_obj, "ram", "int64", &r->ram)) != 0 ||
	    (rc = ctres_dec_int64(&d, rc_obj, "vcpus", "int", &r->vcpus)) != 0 ||
	    (rc = ctres_dec_int64(&d, rc_obj, "keep_cache_ram", "int64", &r->keep_cache_ram)) !=
		    0 ||
	    (rc = ctres_dec_int64(&d, rc_obj, "keep_cache_disk", "int64", &r->keep_cache_disk)) !=
		    0 ||
	    (rc = ctres_dec_object(&d, rc_obj, "gpu", "arvados.GPURuntimeConstraints", &gpu)) != 0)
		return rc;
	return gpu == NULL ? 0 : ctres_dec_gpu(err, errlen, gpu, &r->gpu);
}

/* One mounts entry: only kind "tmp" counts, with its capacity. */
static int
ctres_dec_mount(char *err, size_t errlen, const cJSON *m, int64_t *tmp, bool *overflow)
{
	char path[256];
	struct ctres_dec d = { err, errlen, CTRES_EMOUNTS, "Container", "mounts." };
	const char *kind = "";
	int64_t cap = 0;
	int rc;

	if (!cJSON_IsObject(m)) {
		if (cJSON_IsNull(m))
			return 0; /* Go leaves a zero Mount: kind "" */
		return ctres_dec_type(&d, m, m->string, "arvados.Mount");
	}
	snprintf(path, sizeof(path), "mounts.%s.", m->string);
	d.strct = "Mount";
	d.path = path;
	if ((rc = ctres_dec_string(&d, m, "kind", &kind)) != 0 ||
	    (rc = ctres_dec_int64(&d, m, "capacity", "int64", &cap)) != 0)
		return rc;
	if (strcmp(kind, "tmp") == 0 && __builtin_add_overflow(*tmp, cap, tmp))
		*overflow = true;
	return 0;
}

int
ctres_parse_mounts(const cJSON *mounts, struct ctres *r, char *err, size_t errlen)
{
	struct ctres_dec d = { err, errlen, CTRES_EMOUNTS, "Container", "" };
	const cJSON *m;
	int64_t tmp = 0;
	bool overflow = false;
	int rc;

	if (mounts != NULL && !cJSON_IsNull(mounts)) {
		if (!cJSON_IsObject(mounts))
			return ctres_dec_type(&d, mounts, "mounts", "map[string]arvados.Mount");
		cJSON_ArrayForEach(m, mounts) if ((rc = ctres_dec_mount(err, errlen, m, &tmp,
									&overflow)) != 0) return rc;
	}
	r->tmp_capacity = tmp;
	r->tmp_overflow = overflow;
	return 0;
}

static int
ctres_dec_record(const cJSON *rec, struct ctres *r, char *err, size_t errlen)
{
	struct ctres_dec d = { err, errlen, CTRES_EFIELD, "Container", "" };
	const cJSON *rc_obj, *sp;
	int rc;

	if (!cJSON_IsObject(rec)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
				 "json: cannot unmarshal %s into Go value of type "
				 "arvados.Container",
				 ctres_json_kind(rec));
		return CTRES_EFIELD;
	}
	if ((rc = ctres_dec_string(&d, rec, "container_image", &r->container_image)) != 0 ||
	    (rc = ctres_dec_object(&d, rec, "runtime_constraints", "arvados.RuntimeConstraints",
				   &rc_obj)) != 0 ||
	    (rc = ctres_dec_object(&d, rec, "scheduling_parameters", "arvados.SchedulingParameters",
				   &sp)) != 0)
		return rc;
	if (rc_obj != NULL && (rc = ctres_dec_constraints(err, errlen, rc_obj, r)) != 0)
		return rc;
	if (sp != NULL) {
		struct ctres_dec ds = { err, errlen, CTRES_EFIELD, "SchedulingParameters",
					"scheduling_parameters." };

		if ((rc = ctres_dec_bool(&ds, sp, "preemptible", &r->preemptible)) != 0)
			return rc;
	}
	return ctres_parse_mounts(cJSON_GetObjectItemCaseSensitive(rec, "mounts"), r, err, errlen);
}

int
ctres_parse(const cJSON *record, struct ctres *r, char *err, size_t errlen)
{
	int rc;

	ctres_init(r);
	if ((rc = ctres_dec_record(record, r, err, errlen)) != 0)
		ctres_release(r);
	return rc;
}
