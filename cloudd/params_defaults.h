/*
 * params_defaults.h - the reference's DriverParameters defaults (lib/config/config.default.yml,
 * spec cloud-drivers.md 1.5, 2.1 and 3.1), merged into the site's DriverParameters before a
 * driver is built, as the reference's config loader deep-merges them: every driver sees every
 * default key, a key the site set (matched case-insensitively, as Go's JSON decoder does) keeps
 * the site's value, and the site's InstanceTypeQuotaGroups entries are merged into the default
 * entries rather than replacing them.
 */
#ifndef ADC_PARAMS_DEFAULTS_H
#define ADC_PARAMS_DEFAULTS_H

#include <cjson/cJSON.h>

/* The defaults as one JSON object text (for tests and the docs). */
extern const char params_defaults_json[];

/* Merge the defaults into params (a JSON object). 0, -EINVAL (params is not an object) or
 * -ENOMEM. */
int params_merge_defaults(cJSON *params);

#endif
