/*
 * api_params.h - request parameters for the Arvados API, encoded as the reference client
 * encodes them (spec/dispatcher.md 2.2): one form field per parameter; strings as they are,
 * integers in decimal, booleans only when true, arrays and objects as JSON text, nulls
 * omitted; fields sorted by name and escaped as Go's url.Values.Encode does (space as '+',
 * everything but [A-Za-z0-9-_.~] as %XX), so the bytes on the wire match the Go dispatcher's.
 */
#ifndef ADC_API_PARAMS_H
#define ADC_API_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct api_params;

struct api_params *api_params_new(void);
void api_params_free(struct api_params *p);

/* Each add copies what it is given; adding a name twice keeps both fields (in call order).
 * 0, or -ENOMEM / -EINVAL (NULL or empty name). A NULL string is a null: omitted. */
int api_params_add_str(struct api_params *p, const char *name, const char *value);
int api_params_add_int(struct api_params *p, const char *name, int64_t value);
/* false is omitted, as the reference does. */
int api_params_add_bool(struct api_params *p, const char *name, bool value);
/* Any JSON value: a string, number or boolean goes as the matching add above (a number that is
 * an exact integer in decimal without exponent, others in the shortest round-trip form); null
 * is omitted; an array or object goes as its compact JSON text. v stays the caller's. */
int api_params_add_json(struct api_params *p, const char *name, const cJSON *v);
/* Every member of a JSON object, as api_params_add_json each. -EINVAL if obj is no object. */
int api_params_add_object(struct api_params *p, const cJSON *obj);

/* The form: "a=1&b=x+y". *out is NUL-terminated, caller frees; *len excludes the NUL.
 * An empty parameter set gives "". 0 or -ENOMEM. */
int api_params_encode(const struct api_params *p, char **out, size_t *len);

/* Append the form escaping of s (Go's QueryEscape) to buf of capacity cap at *pos; returns the
 * length the escaped text needs, writing only what fits (so a first call with cap 0 sizes). */
size_t api_params_escape(const char *s, char *buf, size_t cap, size_t pos);

#endif
