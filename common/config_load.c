/*
 * config_load.c - cfg_load / cfg_load_buffer: read the file into a buffer we own (wiped
 * before it is freed), parse it with libfyaml, pick the one cluster, then run the passes:
 * legacy mapping, unknown keys, typed values, instance types, checks, secrets, workers' copy.
 * Nothing is logged here: every finding goes to the caller's diags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "util.h"

#define CFG_MAX_FILE (64u << 20) /* a config file larger than this is a mistake */

static struct fy_document *
load_parse(const char *buf, size_t len, const char *name, struct cfg_diags *diags)
{
	struct fy_diag_cfg dc;
	struct fy_diag *dg;
	struct fy_parse_cfg pc = { .flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG };
	struct fy_document *doc;
	struct fy_diag_error *e;
	void *it = NULL;
	size_t before = diags->nerrors;
	int line, col;

	if (cfg_utf8_check(buf, len, &line, &col) < 0) {
		cfg_diag_add(diags, true, NULL, name, line, col, "YAML: invalid UTF-8");
		return NULL;
	}
	fy_diag_cfg_default(&dc);
	dc.fp = NULL;
	dc.colorize = false;
	dg = fy_diag_create(&dc);
	if (!dg) {
		cfg_diag_add(diags, true, NULL, name, 0, 0, "out of memory");
		return NULL;
	}
	fy_diag_set_collect_errors(dg, true);
	pc.diag = dg;
	doc = fy_document_build_from_string(&pc, buf, len);
	/* Collected positions are 1-based already. */
	while ((e = fy_diag_errors_iterate(dg, &it)))
		if (e->type >= FYET_ERROR)
			cfg_diag_add(diags, true, NULL, name, e->line, e->column, "YAML: %s",
				     e->msg);
	if (!doc && diags->nerrors == before)
		cfg_diag_add(diags, true, NULL, name, 0, 0, "YAML: cannot parse");
	if (doc && diags->nerrors != before) {
		fy_document_destroy(doc);
		doc = NULL;
	}
	fy_diag_destroy(dg);
	return doc;
}

static bool
load_valid_id(const char *id)
{
	if (strlen(id) != 5)
		return false;
	for (int i = 0; i < 5; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9')))
			return false;
	return true;
}

static void
load_pos(struct fy_node *k, int *line, int *col)
{
	cfg_node_pos(k, NULL, line, col);
}

/* The one pair under Clusters; NULL (with an error diag) otherwise. */
static struct fy_node_pair *
load_pick_cluster(struct fy_document *doc, const char *name, struct cfg_diags *diags)
{
	struct fy_node *root = fy_document_root(doc), *k = NULL;
	struct fy_node *cl = cfg_lookup(root, "Clusters", &k);
	struct fy_node_pair *p;
	int line = 0, col = 0, n;

	load_pos(k, &line, &col);
	if (cl && fy_node_get_type(cl) != FYNT_MAPPING) {
		cfg_diag_add(diags, true, "Clusters", name, line, col,
			     "Clusters must be a map of cluster ID to cluster config");
		return NULL;
	}
	n = cfg_node_is_null(cl) ? 0 : fy_node_mapping_item_count(cl);
	if (n == 0) {
		cfg_diag_add(diags, true, "Clusters", name, line, col, "no clusters configured");
		return NULL;
	}
	if (n > 1) {
		load_pos(fy_node_pair_key(fy_node_mapping_get_by_index(cl, 1)), &line, &col);
		cfg_diag_add(diags, true, "Clusters", name, line, col,
			     "multiple clusters configured, cannot choose");
		return NULL;
	}
	p = fy_node_mapping_get_by_index(cl, 0);
	return p;
}

static int
load_ctx(struct cfg_ctx *x, struct fy_document *doc, const char *name, struct cfg_diags *diags)
{
	struct fy_node_pair *p = load_pick_cluster(doc, name, diags);
	char *id, path[64];
	int line, col;

	if (!p)
		return -1;
	x->cluster_key = fy_node_pair_key(p);
	load_pos(x->cluster_key, &line, &col);
	id = cfg_scalar_dup(x->cluster_key);
	if (!id || !load_valid_id(id)) {
		snprintf(path, sizeof(path), "Clusters.%.40s", id ? id : "?");
		cfg_diag_add(diags, true, path, name, line, col,
			     "cluster ID \"%.40s\" must be 5 characters a-z or 0-9", id ? id : "?");
		free(id);
		return -1;
	}
	snprintf(x->prefix, sizeof(x->prefix), "Clusters.%s", id);
	x->cluster = fy_node_pair_value(p);
	if (!cfg_node_is_null(x->cluster) && fy_node_get_type(x->cluster) != FYNT_MAPPING) {
		cfg_report(x, true, "", x->cluster_key, NULL,
			   "expected a mapping (the cluster config)");
		free(id);
		return -1;
	}
	if (cfg_node_is_null(x->cluster)) {
		/* "zzzzz:" alone: a cluster with every default. */
		x->cluster = fy_node_create_mapping(doc);
		if (!x->cluster || fy_node_pair_set_value(p, x->cluster) != 0) {
			free(id);
			return -1;
		}
	}
	x->c->cluster_id = id;
	return 0;
}

static int
load_defaults(struct cfg_ctx *x)
{
	struct fy_parse_cfg pc = { .flags = FYPCF_QUIET };

	x->defdoc = fy_document_build_from_string(&pc, cfg_defaults_yaml, FY_NT);
	x->defaults = x->defdoc ? fy_document_root(x->defdoc) : NULL;
	return x->defaults ? 0 : -1;
}

static void
load_passes(struct cfg_ctx *x)
{
	cfg_legacy_map(x);
	cfg_unknown_check(x);
	if (cfg_read_cluster(x) < 0 && x->diags->nerrors == 0)
		cfg_report(x, true, "", NULL, NULL, "out of memory");
	if (cfg_read_postgres(x) < 0 && x->diags->nerrors == 0)
		cfg_report(x, true, "PostgreSQL.Connection", NULL, NULL, "out of memory");
	if (cfg_read_instance_types(x) < 0 && x->diags->nerrors == 0)
		cfg_report(x, true, "InstanceTypes", NULL, NULL, "out of memory");
	cfg_check_cluster(x);
	cfg_record_places(x);
	if (cfg_read_secrets(x) < 0 && x->diags->nerrors == 0)
		cfg_report(x, true, "", NULL, NULL, "out of memory");
	if (x->diags->nerrors == 0 && cfg_build_worker_json(x) < 0)
		cfg_report(x, true, "", NULL, NULL, "out of memory building the workers' config");
}

struct cfg_cluster *
cfg_load_buffer(const char *buf, size_t len, const char *name, struct cfg_diags *diags)
{
	struct cfg_ctx x = { .file = name ? name : "(config)", .diags = diags };
	struct cfg_cluster *c = NULL;

	x.doc = load_parse(buf, len, x.file, diags);
	if (!x.doc)
		return NULL;
	c = calloc(1, sizeof(*c));
	x.c = c;
	if (!c || load_defaults(&x) < 0) {
		cfg_diag_add(diags, true, NULL, x.file, 0, 0, "out of memory");
	} else if (load_ctx(&x, x.doc, x.file, diags) == 0) {
		c->source_path = strdup(x.file);
		load_passes(&x);
	}
	fy_document_destroy(x.doc);
	fy_document_destroy(x.defdoc);
	if (diags->nerrors > 0 || !c || !c->source_path) {
		if (c && !c->source_path && diags->nerrors == 0)
			cfg_diag_add(diags, true, NULL, x.file, 0, 0, "out of memory");
		cfg_free(c);
		return NULL;
	}
	return c;
}

/* The whole file in a buffer we own, NUL-terminated; -errno on failure. */
static int
load_read_file(const char *path, char **bufp, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t cap, len = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > CFG_MAX_FILE) {
		int e = errno ? errno : EFBIG;
		close(fd);
		return -e;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* Read what fstat promised; a file that grows meanwhile is cut there. */
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			adc_wipe(buf, len);
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

struct cfg_cluster *
cfg_load(const char *path, struct cfg_diags *diags)
{
	struct cfg_cluster *c;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!path || !*path)
		path = getenv("ARVADOS_CONFIG");
	if (!path || !*path)
		path = CFG_DEFAULT_PATH;
	rc = load_read_file(path, &buf, &len);
	if (rc < 0) {
		cfg_diag_add(diags, true, NULL, path, 0, 0, "cannot read config file: %s",
			     strerror(-rc));
		return NULL;
	}
	c = cfg_load_buffer(buf, len, path, diags);
	adc_wipe(buf, len);
	free(buf);
	return c;
}
