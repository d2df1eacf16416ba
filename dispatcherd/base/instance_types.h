/*
 * instance_types.h - instance-type selection (spec/dispatcher.md 3.2-3.5) and the resource
 * accounting used for packing (3.6). No I/O.
 *
 * Usage: build one itypes_table per loaded config (it ranks the types once and pre-parses
 * their GPU versions), then call itypes_choose() once per container when the queue first sees
 * it, and keep the small struct itypes_choice in the queue entry. Scheduling passes then read
 * choice.need and choice.idx without recomputing anything.
 *
 * Candidates are indices into cluster->instance_types (the config's array, sorted by name).
 * They stay valid as long as that cfg_cluster lives; a new config needs a new table and new
 * choices.
 */
#ifndef ADC_INSTANCE_TYPES_H
#define ADC_INSTANCE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "container_resources.h"

/* itypes_choose() outcomes other than 0 (positive: documented, the text is in err). */
enum {
	ITYPES_NOT_CONFIGURED = 1, /* "site configuration does not list any instance types" */
	ITYPES_UNSATISFIABLE =
		2, /* "constraints not satisfiable by any configured instance type" */
	ITYPES_INVALID_GPU_STACK = 3, /* "Invalid GPU stack \"x\", expected to be blank or one of
					 * 'cuda' or 'rocm'" */
};

#define ITYPES_ERR_NOT_CONFIGURED "site configuration does not list any instance types"
#define ITYPES_ERR_UNSATISFIABLE  "constraints not satisfiable by any configured instance type"

/* Enough for every error text (a long GPU stack name is cut short, never overflowed). */
#define ITYPES_ERR_MAX 256

struct itypes_table;

/*
 * Rank c's instance types and pre-parse their GPU versions. c is borrowed and must outlive the
 * table. Returns 0, -ENOMEM, or -E2BIG (more than UINT32_MAX types).
 */
int itypes_table_new(const struct cfg_cluster *c, struct itypes_table **out);
void itypes_table_free(struct itypes_table *t);

/*
 * Spot to on-demand fallback (an addition, -spot-fallback-price-factor; docs/SCHEDULER.md):
 * with factor > 0, every later itypes_choose() of a preemptible request also lists the
 * non-preemptible types the same request would get (3.2-3.4), priced at most factor x its
 * cheapest preemptible candidate. 0 (the default) turns it off.
 */
void itypes_table_set_spot_fallback(struct itypes_table *t, double factor);

/*
 * Every configured type, as indices into cluster->instance_types, in selection order: price
 * ascending, then RAM, VCPUs, Scratch descending, then name. This is also the "full type list
 * sorted by price" that goes with the unsatisfiable error (3.5). Owned by the table.
 */
const uint32_t *itypes_table_ranked(const struct itypes_table *t, size_t *n);

/*
 * One container's selection result: what it needs (3.1) and the candidate types, best first.
 * idx is owned by the choice (itypes_choice_free); the entries index cluster->instance_types.
 * With the spot fallback on (above), a preemptible request's on-demand fallback candidates,
 * cheapest first, follow the n candidates: idx[n .. n + n_fallback).
 */
struct itypes_choice {
	struct res_vec need;
	uint32_t n;
	uint32_t n_fallback;
	uint32_t *idx;
};

/* The longest fallback list kept (the scheduler's view holds its length in 8 bits; within
 * MaximumPriceFactor a longer list is not a real menu). */
#define ITYPES_FALLBACK_MAX 255u

/*
 * Choose the candidate types for r (3.2-3.4). Returns 0 with *out filled (n >= 1), or
 * ITYPES_NOT_CONFIGURED / ITYPES_UNSATISFIABLE / ITYPES_INVALID_GPU_STACK with the exact error
 * text in err (when err is not NULL; ITYPES_ERR_MAX bytes is always enough) and *out empty,
 * or -ENOMEM with *out empty. A requirement that overflows int64 is ITYPES_UNSATISFIABLE.
 */
int itypes_choose(const struct itypes_table *t, const struct ctres *r, struct itypes_choice *out,
		  char *err, size_t errlen);

/* Free idx and empty the choice; idempotent. */
void itypes_choice_free(struct itypes_choice *c);

/* The type at candidate position i of a choice; i < c->n. */
const struct cfg_instance_type *
itypes_choice_type(const struct itypes_table *t, const struct itypes_choice *c, uint32_t i);

/*
 * GPU version comparison (3.3): both sides parsed as decimal floating numbers, so "9.10" is 9.1.
 * itypes_version_parse returns 0 or -EINVAL (empty, trailing garbage, "12.0.12", out of
 * range). itypes_version_less sets *less = a < b and returns 0, or -EINVAL when either side
 * does not parse (callers treat that as "check failed").
 */
int itypes_version_parse(const char *s, double *v);
int itypes_version_less(const char *a, const char *b, bool *less);

/* 3.6: an instance type's capacity: (VCPUs, nominal RAM, Scratch, GPU devices, GPU VRAM). */
struct res_vec itypes_capacity(const struct cfg_instance_type *it);

/*
 * 3.6: r - q component-wise (saturating at the int64 limits instead of overflowing); subtracting
 * a 0-VCPU requirement sets the shared-VCPU flag, which then stays set. gpu_vram is decremented
 * by q's per-device amount (the reference's quirk, kept on purpose).
 */
struct res_vec itypes_sub(struct res_vec r, struct res_vec q);

/*
 * 3.6: whether remaining capacity r accommodates requirement q: every component of r >= q's,
 * r.vcpus > 0, and, once the shared VCPU is in use, r.vcpus > q.vcpus.
 */
bool itypes_accommodates(struct res_vec r, struct res_vec q);

#endif
