/*
 * config_internal.h - what the config_*.c files share; not for use outside the loader.
 *
 * The loader works on the libfyaml document of the whole file. Legacy keys are moved to their
 * new places inside that document first (so positions of moved values survive), unknown keys
 * are reported, then typed values are read from the file's cluster node with the built-in
 * defaults document (config_defaults.c) as the fallback for absent or null keys.
 */
#ifndef ADC_CONFIG_INTERNAL_H
#define ADC_CONFIG_INTERNAL_H

#include <cJSON.h>
#include <libfyaml.h>
#include <stdarg.h>

#include "config.h"

struct cfg_ctx {
	struct fy_document *doc;     /* the file */
	struct fy_node *cluster;     /* Clusters.<id> in the file */
	struct fy_node *cluster_key; /* its key, for diagnostics about missing keys */
	struct fy_document *defdoc;  /* built-in defaults for one cluster */
	struct fy_node *defaults;    /* its root mapping */
	const char *file;	     /* name used in diagnostics */
	char prefix[32];	     /* "Clusters.<id>" */
	struct cfg_diags *diags;
	struct cfg_cluster *c;
};

/* --- config_diag.c --- */
/* Add a diagnostic; key may be NULL. -ENOMEM when it cannot be recorded. */
int cfg_diag_add(struct cfg_diags *d, bool is_error, const char *key, const char *file, int line,
		 int column, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Where a value is, for diagnostics: the value itself when it is a scalar, else its key. */
void cfg_node_pos(struct fy_node *key, struct fy_node *value, int *line, int *column);
/* A diagnostic about cluster-relative path rel ("Containers.CloudVMs.TimeoutIdle", or "" for
 * the cluster itself) at the position of key/value (either may be NULL). */
void cfg_report(struct cfg_ctx *x, bool is_error, const char *rel, struct fy_node *key,
		struct fy_node *value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* --- config_utf8.c --- */
/* 0 if buf is valid UTF-8; else -1 with the 1-based position of the first bad byte. */
int cfg_utf8_check(const char *buf, size_t len, int *line, int *column);

/* --- config_types.c --- */
/* The file's node at a dotted cluster-relative path (NULL if absent), and its key node. */
struct fy_node *cfg_lookup(struct fy_node *base, const char *rel, struct fy_node **keyp);
bool cfg_node_is_null(struct fy_node *n);
/* Typed reads of rel; the defaults document answers when the file has nothing (or null). A
 * value of the wrong type is an error diag and leaves *out unchanged; they return 0 or -1. */
int cfg_get_str(struct cfg_ctx *x, const char *rel, char **out);
int cfg_get_int(struct cfg_ctx *x, const char *rel, int64_t *out);
int cfg_get_float(struct cfg_ctx *x, const char *rel, double *out);
int cfg_get_bool(struct cfg_ctx *x, const char *rel, bool *out);
int cfg_get_duration(struct cfg_ctx *x, const char *rel, cfg_duration_ns *out);
int cfg_get_bytesize(struct cfg_ctx *x, const char *rel, int64_t *out);
/* The same conversions on a node already found (instance types); rel names it in diags. */
int
cfg_node_str(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v, char **out);
int cfg_node_int(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
		 int64_t *out);
int cfg_node_float(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
		   double *out);
int
cfg_node_bool(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v, bool *out);
int cfg_node_bytesize(struct cfg_ctx *x, const char *rel, struct fy_node *k, struct fy_node *v,
		      int64_t *out);
/* A scalar's text as a new NUL-terminated string; NULL if not a scalar or out of memory. */
char *cfg_scalar_dup(struct fy_node *n);

/* --- config_defaults.c --- */
extern const char cfg_defaults_yaml[];
/* Known keys per section the dispatcher owns; NULL-terminated lists. */
struct cfg_section {
	const char *rel; /* "Containers.CloudVMs"; "InstanceTypes.*" for each type */
	const char *const *keys;
};
extern const struct cfg_section cfg_sections[];

/* --- config_legacy.c --- */
/* Move the older layout's keys into the new places in x->doc, one warning each. */
int cfg_legacy_map(struct cfg_ctx *x);
/* InstanceTypes.<name>.CUDA -> GPU, in place, with a warning. */
int cfg_legacy_cuda(struct cfg_ctx *x, const char *name, struct fy_node *itype);

/* --- config_unknown.c --- */
/* Warn about unknown keys in the owned sections; drop mis-cased ones from the document. */
void cfg_unknown_check(struct cfg_ctx *x);

/* --- config_cluster.c --- */
int cfg_read_cluster(struct cfg_ctx *x);

/* --- config_postgres.c --- */
int cfg_read_postgres(struct cfg_ctx *x);

/* --- config_itypes.c --- */
int cfg_read_instance_types(struct cfg_ctx *x);

/* --- config_loopback.c --- */
/* Fill t as the synthesised "localhost" type from this host's resources. */
int cfg_loopback_type(struct cfg_instance_type *t);

/* --- config_checks.c --- */
void cfg_check_cluster(struct cfg_ctx *x);

/* --- config_secrets.c --- */
int cfg_read_secrets(struct cfg_ctx *x);

/* --- config_json.c --- */
/* 1 / 0 for a YAML 1.1 boolean word (as Go's yaml.v2), -1 otherwise. */
int cfg_plain_bool(const char *s);
/* A faithful JSON image of a YAML node (ints stay ints, quoted text stays text). */
cJSON *cfg_yaml_to_json(struct fy_node *n);
/* Wipe every string and number in a tree, then delete it. */
void cfg_json_wipe_delete(cJSON *j);

/* --- config_worker.c --- */
int cfg_build_worker_json(struct cfg_ctx *x);

/* --- config_places.c --- */
/* Record where the placed keys (config.h) are, into x->c->at. */
void cfg_record_places(struct cfg_ctx *x);

/* --- config_free.c --- */
void cfg_itype_free(struct cfg_instance_type *t);

#endif
