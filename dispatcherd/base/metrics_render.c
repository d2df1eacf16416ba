/*
 * metrics_render.c - the Prometheus text exposition format (0.0.4) and the /metrics.json
 * array, from the registry's already sorted families and series.
 */
#include "metrics_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct tbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static int
tbuf_reserve(struct tbuf *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
tbuf_put(struct tbuf *b, const char *s, size_t n)
{
	if (tbuf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void
tbuf_str(struct tbuf *b, const char *s)
{
	tbuf_put(b, s, strlen(s));
}

/* HELP text escapes backslash and newline; label values also escape the double quote. */
static void
tbuf_escaped(struct tbuf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			tbuf_put(b, "\\\\", 2);
		else if (*s == '\n')
			tbuf_put(b, "\\n", 2);
		else if (quote && *s == '"')
			tbuf_put(b, "\\\"", 2);
		else
			tbuf_put(b, s, 1);
	}
}

void
metrics_format_double(double v, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* The shortest of %.15g .. %.17g that reads back exactly (Go's FormatFloat 'g', -1). */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void
tbuf_double(struct tbuf *b, double v)
{
	char num[40];
	metrics_format_double(v, num, sizeof(num));
	tbuf_str(b, num);
}

/* {a="x",b="y"} plus an optional extra pair (the summary's quantile); nothing when empty. */
static void
tbuf_labels(struct tbuf *b, const struct metric_family *f, const struct metric_series *s,
	    const char *xname, const char *xval)
{
	if (f->nlabels == 0 && !xname)
		return;
	tbuf_put(b, "{", 1);
	for (size_t i = 0; i < f->nlabels; i++) {
		if (i)
			tbuf_put(b, ",", 1);
		tbuf_str(b, f->labels[i]);
		tbuf_put(b, "=\"", 2);
		tbuf_escaped(b, s->values[i], 1);
		tbuf_put(b, "\"", 1);
	}
	if (xname) {
		if (f->nlabels)
			tbuf_put(b, ",", 1);
		tbuf_str(b, xname);
		tbuf_put(b, "=\"", 2);
		tbuf_str(b, xval);
		tbuf_put(b, "\"", 1);
	}
	tbuf_put(b, "}", 1);
}

static void
render_sample(struct tbuf *b, const struct metric_family *f, const struct metric_series *s,
	      const char *suffix, const char *xname, const char *xval, double v)
{
	tbuf_str(b, f->name);
	tbuf_str(b, suffix);
	tbuf_labels(b, f, s, xname, xval);
	tbuf_put(b, " ", 1);
	tbuf_double(b, v);
	tbuf_put(b, "\n", 1);
}

static void
render_summary(struct tbuf *b, const struct metric_family *f, const struct metric_series *s,
	       uint64_t now)
{
	double q[METRICS_NQUANTILES];
	metrics_summary_quantiles(s->summary, now, q);
	for (size_t i = 0; i < METRICS_NQUANTILES; i++) {
		char qs[16];
		metrics_format_double(metrics_quantiles[i], qs, sizeof(qs));
		render_sample(b, f, s, "", "quantile", qs, q[i]);
	}
	render_sample(b, f, s, "_sum", NULL, NULL, s->summary->sum);
	render_sample(b, f, s, "_count", NULL, NULL, (double)s->summary->count);
}

static const char *const type_names[] = { "counter", "gauge", "summary" };

static void
render_family(struct tbuf *b, const struct metric_family *f, uint64_t now)
{
	/* The Go client omits families without series; so do we. */
	if (f->n == 0)
		return;
	tbuf_str(b, "# HELP ");
	tbuf_str(b, f->name);
	tbuf_put(b, " ", 1);
	tbuf_escaped(b, f->help, 0);
	tbuf_str(b, "\n# TYPE ");
	tbuf_str(b, f->name);
	tbuf_put(b, " ", 1);
	tbuf_str(b, type_names[f->type]);
	tbuf_put(b, "\n", 1);
	for (size_t i = 0; i < f->n; i++) {
		if (f->type == METRIC_SUMMARY)
			render_summary(b, f, &f->v[i], now);
		else
			render_sample(b, f, &f->v[i], "", NULL, NULL, f->v[i].value);
	}
}

int
metrics_render_text(struct metrics_registry *r, char **out, size_t *len)
{
	metrics_run_hooks(r);
	struct tbuf b = { 0 };
	uint64_t now = adc_now_ms();
	if (tbuf_reserve(&b, 0) == 0)
		b.p[0] = 0; /* an empty registry renders as "" */
	for (size_t i = 0; i < r->n; i++)
		render_family(&b, r->fams[i], now);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* protobuf JSON mapping: doubles as numbers except non-finite ones, which are strings. */
static cJSON *
json_double(double v)
{
	if (isfinite(v))
		return cJSON_CreateNumber(v);
	return cJSON_CreateString(isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
}

static cJSON *
json_labels(const struct metric_family *f, const struct metric_series *s)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < f->nlabels; i++) {
		cJSON *l = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, l);
		cJSON_AddStringToObject(l, "name", f->labels[i]);
		cJSON_AddStringToObject(l, "value", s->values[i]);
	}
	return arr;
}

static cJSON *
json_summary(const struct metric_summary *sm, uint64_t now)
{
	double q[METRICS_NQUANTILES];
	char cnt[24];
	metrics_summary_quantiles(sm, now, q);
	cJSON *o = cJSON_CreateObject();
	/* uint64 fields are strings in the protobuf JSON mapping. */
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)sm->count);
	cJSON_AddStringToObject(o, "sampleCount", cnt);
	cJSON_AddItemToObject(o, "sampleSum", json_double(sm->sum));
	cJSON *arr = cJSON_AddArrayToObject(o, "quantile");
	for (size_t i = 0; arr && i < METRICS_NQUANTILES; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, e);
		cJSON_AddItemToObject(e, "quantile", json_double(metrics_quantiles[i]));
		cJSON_AddItemToObject(e, "value", json_double(q[i]));
	}
	return o;
}

static cJSON *
json_series(const struct metric_family *f, const struct metric_series *s, uint64_t now)
{
	static const char *const keys[] = { "counter", "gauge", "summary" };
	cJSON *m = cJSON_CreateObject();
	if (!m)
		return NULL;
	if (f->nlabels)
		cJSON_AddItemToObject(m, "label", json_labels(f, s));
	if (f->type == METRIC_SUMMARY) {
		cJSON_AddItemToObject(m, keys[f->type], json_summary(s->summary, now));
	} else {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddItemToObject(v, "value", json_double(s->value));
		cJSON_AddItemToObject(m, keys[f->type], v);
	}
	return m;
}

cJSON *
metrics_render_json(struct metrics_registry *r)
{
	static const char *const types[] = { "COUNTER", "GAUGE", "SUMMARY" };
	metrics_run_hooks(r);
	uint64_t now = adc_now_ms();
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < r->n; i++) {
		const struct metric_family *f = r->fams[i];
		if (f->n == 0)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "name", f->name);
		cJSON_AddStringToObject(o, "help", f->help);
		cJSON_AddStringToObject(o, "type", types[f->type]);
		cJSON *ms = cJSON_AddArrayToObject(o, "metric");
		for (size_t j = 0; ms && j < f->n; j++)
			cJSON_AddItemToArray(ms, json_series(f, &f->v[j], now));
	}
	return arr;
}
