/*
 * api_json.h - JSON from the API server, with integers kept exact.
 *
 * cJSON keeps numbers as doubles, which are exact only up to 2^53; container priorities and
 * other int64 fields can be larger. api_json_parse() parses with cJSON and then re-reads every
 * integer literal whose double is not exact from the raw text, keeping its decimal text in the
 * number node's valuestring (cJSON_Delete and cJSON_Duplicate already handle valuestring).
 * Read integers with api_json_int64(), never valueint (saturates at INT_MAX) or valuedouble.
 */
#ifndef ADC_API_JSON_H
#define ADC_API_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Parse exactly len bytes (no trailing garbage). 0 with *out set (caller cJSON_Deletes), or
 * -EBADMSG when the text is not one valid JSON value (*where then says at which byte offset),
 * -ENOMEM. */
int api_json_parse(const char *text, size_t len, cJSON **out, size_t *where);

/* The exact value of an integer number node. 0, or -EINVAL if item is no number, -ERANGE if it
 * is not an integer or does not fit int64. */
int api_json_int64(const cJSON *item, int64_t *out);

/* Same, for the member name of object obj; -ENOENT if absent. */
int api_json_get_int64(const cJSON *obj, const char *name, int64_t *out);

/* A new number node holding v exactly (the text form is kept when v is beyond 2^53). */
cJSON *api_json_new_int64(int64_t v);

/* Compact JSON text of v with exact integers kept (cJSON_PrintUnformatted would print a
 * number beyond 2^53 from its double). Caller frees; NULL on ENOMEM. */
char *api_json_print(const cJSON *v);
/* Escape <, >, & and U+2028/U+2029 as \u003c, \u003e, \u0026, \u2028, \u2029, as Go's
 * encoding/json does, so that parameters are byte for byte what the Go dispatcher sends
 * (spec arvados-api-server.md: the ">" operator arrives as "\u003e"). Outside strings these
 * characters cannot occur in JSON text, so the whole text is rewritten. Consumes s (NULL is
 * passed through); returns a new string or NULL on allocation failure. */
char *api_json_go_escape(char *s);

#endif
