/*
 * metrics.h - a small Prometheus registry: counters, gauges and summaries with labels, rendered
 * in the text exposition format (version 0.0.4) and as the reference's /metrics.json.
 *
 * Families are looked up by name; a series is identified by its label values, given in the
 * order of the family's label names. Output is sorted (families by name, series by label
 * values), as the Go client's Gather sorts, so scrapes are deterministic and diffable.
 *
 * Single-threaded: everything runs on dispatcherd's loop; there is no locking.
 */
#ifndef ADC_METRICS_H
#define ADC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define METRICS_MAX_LABELS 4

enum metric_type { METRIC_COUNTER = 0, METRIC_GAUGE = 1, METRIC_SUMMARY = 2 };

struct metrics_registry;
struct metric_family;

/* Called before every rendering, for values computed at scrape time (at_quota, process_*). */
typedef void (*metrics_collect_fn)(void *ctx, struct metrics_registry *r);

struct metrics_registry *metrics_new(void);
void metrics_free(struct metrics_registry *r);
/* At most a few hooks; -ENOSPC beyond. */
int metrics_on_collect(struct metrics_registry *r, metrics_collect_fn fn, void *ctx);

/*
 * Register a family. labels has nlabels names (NULL when 0). Returns the family, or NULL with
 * errno set: EINVAL (bad metric or label name, too many labels), EEXIST (name taken with
 * another type or labels; the same registration twice returns the existing family), ENOMEM.
 */
struct metric_family *
metrics_register(struct metrics_registry *r, enum metric_type type, const char *name,
		 const char *help, size_t nlabels, const char *const *labels);
struct metric_family *metrics_find(const struct metrics_registry *r, const char *name);
enum metric_type metrics_family_type(const struct metric_family *f);
size_t metrics_family_series(const struct metric_family *f);

/*
 * Series operations. values holds the family's nlabels label values (NULL when it has none);
 * a series that does not exist yet is created at 0. Return 0, -EINVAL (wrong type for the
 * operation, a counter decreasing, a NULL value), -ENOMEM.
 */
int metrics_touch(struct metric_family *f, const char *const *values);	       /* pre-create at 0 */
int metrics_set(struct metric_family *f, const char *const *values, double v); /* gauge */
int metrics_add(struct metric_family *f, const char *const *values, double d); /* counter/gauge */
int metrics_observe(struct metric_family *f, const char *const *values, double v); /* summary */
/* Gauges: set every existing series to 0 ("previously seen combinations reset to 0"). */
int metrics_zero_all(struct metric_family *f);
/* Drop every series (10,000 instance gauges that went away). */
void metrics_clear(struct metric_family *f);
/* Current value (gauge/counter) or observation count (summary); NAN when absent. */
double metrics_value(const struct metric_family *f, const char *const *values);

/* Render the text format into a malloc'd NUL-terminated buffer (*out, *len). 0 or -ENOMEM. */
int metrics_render_text(struct metrics_registry *r, char **out, size_t *len);
/* The /metrics.json array (protobuf JSON mapping of MetricFamily); NULL on ENOMEM. */
cJSON *metrics_render_json(struct metrics_registry *r);

/* Formatting helpers, exposed for tests. */
/* Shortest text that reads back as v; "+Inf", "-Inf", "NaN" as Prometheus writes them. */
void metrics_format_double(double v, char *buf, size_t len);
int metrics_valid_name(const char *name);
int metrics_valid_label_name(const char *name);

#endif
