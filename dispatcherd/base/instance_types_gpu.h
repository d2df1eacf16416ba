/*
 * instance_types_gpu.h - the GPU rules of spec/dispatcher.md 3.3, internal to instance_types.c.
 *
 * Both sides are parsed once: each configured type when the table is built, the request once
 * per itypes_choose(), so the per-type check in the scan is a few comparisons.
 */
#ifndef ADC_INSTANCE_TYPES_GPU_H
#define ADC_INSTANCE_TYPES_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "container_resources.h"

/* How the type's HardwareTarget is checked, by requested stack and number of targets. */
enum itypes_hw_mode {
	ITYPES_HW_NONE,	    /* stack "": no check */
	ITYPES_HW_ONE_OF,   /* cuda with 2+ targets, or rocm: exact string match with one */
	ITYPES_HW_AT_LEAST, /* cuda with one target: type's target >= it (versions) */
	ITYPES_HW_FAIL,	    /* cuda with no targets: nothing qualifies */
};

struct itypes_gpu_req {
	enum cfg_gpu_stack stack;
	bool active; /* device_count > 0: the driver and hardware checks apply */
	bool drv_ok; /* driver_version parsed */
	double drv;
	enum itypes_hw_mode hw_mode;
	bool hw_ok; /* for AT_LEAST: hardware_target[0] parsed */
	double hw;
	const char *const *targets;
	size_t n_targets;
};

/* A configured type's versions, parsed once. */
struct itypes_gpu_type {
	bool drv_ok, hw_ok;
	double drv, hw;
};

/* "" / "cuda" / "rocm" (exact, as the reference compares strings); -EINVAL otherwise. */
int itypes_gpu_stack(const char *s, enum cfg_gpu_stack *out);

void
itypes_gpu_req_init(struct itypes_gpu_req *q, const struct ctres_gpu *g, enum cfg_gpu_stack stack);
void itypes_gpu_type_init(struct itypes_gpu_type *e, const struct cfg_gpu *g);

/* The driver and hardware checks of 3.3 (true when the request has no devices). */
bool itypes_gpu_ok(const struct itypes_gpu_req *q, const struct itypes_gpu_type *e,
		   const struct cfg_gpu *g);

/* s quoted as Go's %q would (for ASCII and valid UTF-8), NUL-terminated, truncated to n. */
void itypes_gpu_quote(const char *s, char *buf, size_t n);

#endif
