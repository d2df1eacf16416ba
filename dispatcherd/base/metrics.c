/*
 * metrics.c - the registry: families sorted by name, series sorted by label values, so that a
 * lookup is a binary search and rendering needs no sort.
 *
 * Summaries keep the last SUMMARY_SAMPLES observations of the last SUMMARY_MAX_AGE_MS and compute
 * exact quantiles over them when rendered. The Go client uses a streaming estimator over a
 * 10-minute window instead; the objectives (0.5, 0.9, 0.95, 0.99) and the window are the same,
 * and a bounded exact sample is simpler to get right (docs/MANAGEMENT_API.md).
 */
#include "metrics.h"
#include "metrics_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const double metrics_quantiles[METRICS_NQUANTILES] = { 0.5, 0.9, 0.95, 0.99 };

struct metrics_registry *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics_registry));
}

static void
series_free(struct metric_series *s, size_t nlabels)
{
	for (size_t i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s->summary);
}

static void
family_free(struct metric_family *f)
{
	for (size_t i = 0; i < f->n; i++)
		series_free(&f->v[i], f->nlabels);
	free(f->v);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f);
}

void
metrics_free(struct metrics_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		family_free(r->fams[i]);
	free(r->fams);
	free(r);
}

int
metrics_on_collect(struct metrics_registry *r, metrics_collect_fn fn, void *ctx)
{
	for (size_t i = 0; i < r->nhooks; i++)
		if (r->hooks[i].fn == fn && r->hooks[i].ctx == ctx)
			return 0; /* registering twice is harmless */
	if (r->nhooks >= METRICS_MAX_HOOKS)
		return -ENOSPC;
	r->hooks[r->nhooks].fn = fn;
	r->hooks[r->nhooks].ctx = ctx;
	r->nhooks++;
	return 0;
}

int
metrics_valid_name(const char *s)
{
	if (!s || !*s)
		return 0;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
			 (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

int
metrics_valid_label_name(const char *s)
{
	if (!metrics_valid_name(s) || strchr(s, ':'))
		return 0;
	/* Names starting with __ are reserved for Prometheus itself; "quantile" is the summary's. */
	return strncmp(s, "__", 2) != 0 && strcmp(s, "quantile") != 0;
}

/* Index of name, or of where it would go (*found says which). */
static size_t
family_search(const struct metrics_registry *r, const char *name, int *found)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->fams[mid]->name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct metric_family *
metrics_find(const struct metrics_registry *r, const char *name)
{
	int found;
	size_t i = family_search(r, name, &found);
	return found ? r->fams[i] : NULL;
}

static int
family_same_shape(const struct metric_family *f, enum metric_type type, size_t nlabels,
		  const char *const *labels)
{
	if (f->type != type || f->nlabels != nlabels)
		return 0;
	for (size_t i = 0; i < nlabels; i++)
		if (strcmp(f->labels[i], labels[i]) != 0)
			return 0;
	return 1;
}

static struct metric_family *
family_new(enum metric_type type, const char *name, const char *help, size_t nlabels,
	   const char *const *labels)
{
	struct metric_family *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->type = type;
	f->nlabels = nlabels;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	int ok = f->name && f->help;
	for (size_t i = 0; i < nlabels; i++)
		ok = ok && (f->labels[i] = strdup(labels[i])) != NULL;
	if (!ok) {
		family_free(f);
		return NULL;
	}
	return f;
}

static int
labels_valid(size_t nlabels, const char *const *labels)
{
	if (nlabels > METRICS_MAX_LABELS)
		return 0;
	for (size_t i = 0; i < nlabels; i++) {
		if (!metrics_valid_label_name(labels[i]))
			return 0;
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return 0;
	}
	return 1;
}

struct metric_family *
metrics_register(struct metrics_registry *r, enum metric_type type, const char *name,
		 const char *help, size_t nlabels, const char *const *labels)
{
	if (!metrics_valid_name(name) || !labels_valid(nlabels, labels) || type > METRIC_SUMMARY) {
		errno = EINVAL;
		return NULL;
	}
	int found;
	size_t at = family_search(r, name, &found);
	if (found) {
		if (family_same_shape(r->fams[at], type, nlabels, labels))
			return r->fams[at];
		errno = EEXIST;
		return NULL;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct metric_family **v = realloc(r->fams, cap * sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return NULL;
		}
		r->fams = v;
		r->cap = cap;
	}
	struct metric_family *f = family_new(type, name, help, nlabels, labels);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	memmove(&r->fams[at + 1], &r->fams[at], (r->n - at) * sizeof(*r->fams));
	r->fams[at] = f;
	r->n++;
	return f;
}

enum metric_type
metrics_family_type(const struct metric_family *f)
{
	return f->type;
}

size_t
metrics_family_series(const struct metric_family *f)
{
	return f->n;
}

static int
values_cmp(const struct metric_family *f, char *const *a, const char *const *b)
{
	for (size_t i = 0; i < f->nlabels; i++) {
		int c = strcmp(a[i], b[i]);
		if (c)
			return c;
	}
	return 0;
}

static size_t
series_search(const struct metric_family *f, const char *const *values, int *found)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = values_cmp(f, f->v[mid].values, values);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int
series_init(struct metric_family *f, struct metric_series *s, const char *const *values)
{
	memset(s, 0, sizeof(*s));
	if (f->type == METRIC_SUMMARY && !(s->summary = calloc(1, sizeof(*s->summary))))
		return -ENOMEM;
	for (size_t i = 0; i < f->nlabels; i++) {
		if (!(s->values[i] = strdup(values[i]))) {
			series_free(s, i);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The series for values, created at 0 if needed; NULL on bad input or ENOMEM (*err says). */
static struct metric_series *
series_get(struct metric_family *f, const char *const *values, int *err)
{
	for (size_t i = 0; i < f->nlabels; i++) {
		if (!values || !values[i]) {
			*err = -EINVAL;
			return NULL;
		}
	}
	int found;
	size_t at = series_search(f, values, &found);
	if (found)
		return &f->v[at];
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct metric_series *v = realloc(f->v, cap * sizeof(*v));
		if (!v) {
			*err = -ENOMEM;
			return NULL;
		}
		f->v = v;
		f->cap = cap;
	}
	struct metric_series s;
	if ((*err = series_init(f, &s, values)) < 0)
		return NULL;
	memmove(&f->v[at + 1], &f->v[at], (f->n - at) * sizeof(*f->v));
	f->v[at] = s;
	f->n++;
	return &f->v[at];
}

int
metrics_touch(struct metric_family *f, const char *const *values)
{
	int err = 0;
	return series_get(f, values, &err) ? 0 : err;
}

int
metrics_set(struct metric_family *f, const char *const *values, double v)
{
	if (f->type != METRIC_GAUGE)
		return -EINVAL;
	int err = 0;
	struct metric_series *s = series_get(f, values, &err);
	if (!s)
		return err;
	s->value = v;
	return 0;
}

int
metrics_add(struct metric_family *f, const char *const *values, double d)
{
	/* A counter only goes up; NaN would poison it for good. */
	if (f->type == METRIC_SUMMARY || (f->type == METRIC_COUNTER && !(d >= 0)))
		return -EINVAL;
	int err = 0;
	struct metric_series *s = series_get(f, values, &err);
	if (!s)
		return err;
	s->value += d;
	return 0;
}

int
metrics_observe(struct metric_family *f, const char *const *values, double v)
{
	if (f->type != METRIC_SUMMARY || isnan(v))
		return -EINVAL;
	int err = 0;
	struct metric_series *s = series_get(f, values, &err);
	if (!s)
		return err;
	struct metric_summary *sm = s->summary;
	sm->count++;
	sm->sum += v;
	sm->samples[sm->next] = v;
	sm->stamps[sm->next] = adc_now_ms();
	sm->next = (sm->next + 1) % METRICS_SUMMARY_SAMPLES;
	if (sm->used < METRICS_SUMMARY_SAMPLES)
		sm->used++;
	return 0;
}

int
metrics_zero_all(struct metric_family *f)
{
	if (f->type != METRIC_GAUGE)
		return -EINVAL;
	for (size_t i = 0; i < f->n; i++)
		f->v[i].value = 0;
	return 0;
}

void
metrics_clear(struct metric_family *f)
{
	for (size_t i = 0; i < f->n; i++)
		series_free(&f->v[i], f->nlabels);
	f->n = 0;
}

double
metrics_value(const struct metric_family *f, const char *const *values)
{
	for (size_t i = 0; i < f->nlabels; i++)
		if (!values || !values[i])
			return NAN;
	int found;
	size_t at = series_search(f, values, &found);
	if (!found)
		return NAN;
	if (f->type == METRIC_SUMMARY)
		return (double)f->v[at].summary->count;
	return f->v[at].value;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void
metrics_summary_quantiles(const struct metric_summary *sm, uint64_t now_ms,
			  double out[METRICS_NQUANTILES])
{
	double live[METRICS_SUMMARY_SAMPLES];
	size_t n = 0;
	for (size_t i = 0; i < sm->used; i++)
		if (now_ms - sm->stamps[i] <= METRICS_SUMMARY_MAX_AGE_MS)
			live[n++] = sm->samples[i];
	qsort(live, n, sizeof(*live), dbl_cmp);
	for (size_t q = 0; q < METRICS_NQUANTILES; q++) {
		if (n == 0) {
			out[q] = NAN; /* what the Go client reports for an empty window */
			continue;
		}
		/* Nearest rank: the smallest sample with at least q of the samples at or below it. */
		size_t rank = (size_t)ceil(metrics_quantiles[q] * (double)n);
		out[q] = live[rank ? rank - 1 : 0];
	}
}

void
metrics_run_hooks(struct metrics_registry *r)
{
	for (size_t i = 0; i < r->nhooks; i++)
		r->hooks[i].fn(r->hooks[i].ctx, r);
}
