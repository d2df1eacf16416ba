/* metrics_internal.h - the registry's data, shared by metrics.c and the renderers only. */
#ifndef ADC_METRICS_INTERNAL_H
#define ADC_METRICS_INTERNAL_H

#include "metrics.h"

#define METRICS_MAX_HOOKS	   8
#define METRICS_NQUANTILES	   4
#define METRICS_SUMMARY_SAMPLES	   512
#define METRICS_SUMMARY_MAX_AGE_MS (10u * 60u * 1000u)

extern const double metrics_quantiles[METRICS_NQUANTILES];

struct metric_summary {
	uint64_t count;
	double sum;
	double samples[METRICS_SUMMARY_SAMPLES];
	uint64_t stamps[METRICS_SUMMARY_SAMPLES];
	size_t next, used;
};

struct metric_series {
	char *values[METRICS_MAX_LABELS];
	double value;			/* counter, gauge */
	struct metric_summary *summary; /* summary only */
};

struct metric_family {
	enum metric_type type;
	char *name, *help;
	size_t nlabels;
	char *labels[METRICS_MAX_LABELS];
	struct metric_series *v; /* sorted by label values */
	size_t n, cap;
};

struct metrics_registry {
	struct metric_family **fams; /* sorted by name */
	size_t n, cap;
	struct {
		metrics_collect_fn fn;
		void *ctx;
	} hooks[METRICS_MAX_HOOKS];
	size_t nhooks;
};

void metrics_run_hooks(struct metrics_registry *r);
void metrics_summary_quantiles(const struct metric_summary *sm, uint64_t now_ms,
			       double out[METRICS_NQUANTILES]);

#endif
