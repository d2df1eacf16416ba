/*
 * config_diag.c - the loader's diagnostics: a growable list of errors and warnings, each
 * with the dotted key path and file:line:column, formatted as compilers do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

static int
diag_grow(struct cfg_diags *d)
{
	if (d->n < d->cap)
		return 0;
	size_t cap = d->cap ? d->cap * 2 : 8;
	struct cfg_diag *v = realloc(d->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->v = v;
	d->cap = cap;
	return 0;
}

static char *
diag_vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int
cfg_diag_add(struct cfg_diags *d, bool is_error, const char *key, const char *file, int line,
	     int column, const char *fmt, ...)
{
	struct cfg_diag g = { .is_error = is_error, .line = line, .column = column };
	va_list ap;

	/* An error always counts, even if there is no memory left to describe it. */
	if (is_error)
		d->nerrors++;
	if (diag_grow(d) < 0)
		return -ENOMEM;
	va_start(ap, fmt);
	g.message = diag_vfmt(fmt, ap);
	va_end(ap);
	g.key_path = key ? strdup(key) : NULL;
	g.file = file ? strdup(file) : NULL;
	if (!g.message || (key && !g.key_path) || (file && !g.file)) {
		free(g.message);
		free(g.key_path);
		free(g.file);
		return -ENOMEM;
	}
	d->v[d->n++] = g;
	return 0;
}

static void
diag_token_pos(struct fy_node *n, int *line, int *column)
{
	struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;

	if (m) {
		enum fy_node_style st = fy_node_get_style(n);
		/* libfyaml marks are 0-based, and a quoted scalar's mark is after its quote:
		 * point at the quote, where the value starts in the file. */
		bool quoted = st == FYNS_SINGLE_QUOTED || st == FYNS_DOUBLE_QUOTED;
		*line = m->line + 1;
		*column = m->column + 1 - (quoted && m->column > 0);
	}
}

void
cfg_node_pos(struct fy_node *key, struct fy_node *value, int *line, int *column)
{
	*line = *column = 0;
	/* libfyaml 0.7 has no start mark for collections: point at their key instead. */
	if (value && fy_node_get_type(value) == FYNT_SCALAR)
		diag_token_pos(value, line, column);
	if (*line == 0)
		diag_token_pos(key, line, column);
}

void
cfg_report(struct cfg_ctx *x, bool is_error, const char *rel, struct fy_node *key,
	   struct fy_node *value, const char *fmt, ...)
{
	char *path = NULL, *msg;
	int line, column;
	va_list ap;

	cfg_node_pos(key, value, &line, &column);
	if (rel && *rel) {
		if (asprintf(&path, "%s.%s", x->prefix, rel) < 0)
			path = NULL;
	} else {
		path = strdup(x->prefix);
	}
	va_start(ap, fmt);
	msg = diag_vfmt(fmt, ap);
	va_end(ap);
	cfg_diag_add(x->diags, is_error, path ? path : x->prefix, x->file, line, column, "%s",
		     msg ? msg : "(out of memory)");
	free(msg);
	free(path);
}

char *
cfg_diag_format(const struct cfg_diag *d)
{
	char *s = NULL, where[64] = "";
	const char *kind = d->is_error ? "error" : "warning";
	int rc;

	if (d->line > 0)
		snprintf(where, sizeof(where), ":%d:%d", d->line, d->column);
	if (d->key_path)
		rc = asprintf(&s, "%s%s: %s: %s: %s", d->file ? d->file : "(config)", where, kind,
			      d->key_path, d->message);
	else
		rc = asprintf(&s, "%s%s: %s: %s", d->file ? d->file : "(config)", where, kind,
			      d->message);
	return rc < 0 ? NULL : s;
}

void
cfg_diags_free(struct cfg_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].key_path);
		free(d->v[i].file);
		free(d->v[i].message);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}
