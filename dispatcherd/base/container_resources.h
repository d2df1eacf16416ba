/*
 * container_resources.h - what instance-type selection needs from a container record, and the
 * resources that record asks for (spec/dispatcher.md 3.1).
 *
 * No I/O. The parser reads the API's JSON (a cJSON tree) the way Go's encoding/json would fill
 * arvados.Container: missing or null fields keep their zero value, unknown fields are ignored,
 * a field of the wrong JSON type is an error whose text names the field.
 */
#ifndef ADC_CONTAINER_RESOURCES_H
#define ADC_CONTAINER_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "config.h"

#define CTRES_MIB ((int64_t)1 << 20)

/* Parser outcomes (positive: documented, the message is in the caller's buffer). */
enum {
	CTRES_EFIELD = 1,  /* a field outside mounts has the wrong JSON type or range */
	CTRES_EMOUNTS = 2, /* mounts could not be decoded: cancel with
				 * "error getting mounts from container record: <message>" */
};

/*
 * A resource vector (3.1 requirement, 3.6 capacity/remaining). Every amount is int64 as in the
 * reference; gpu_vram is per device. shared_vcpu_used is only meaningful for remaining
 * capacity (3.6).
 */
struct res_vec {
	int64_t vcpus;
	int64_t ram;
	int64_t scratch;
	int64_t gpus;
	int64_t gpu_vram;
	bool shared_vcpu_used;
};

struct ctres_gpu {
	const char *stack;	      /* "" when unset */
	const char *driver_version;   /* "" when unset */
	const char **hardware_target; /* n_hardware_target entries; array owned, strings borrowed */
	size_t n_hardware_target;
	int64_t device_count;
	int64_t vram; /* bytes per device */
};

/*
 * The fields selection reads. Strings are borrowed from the cJSON tree they were parsed from
 * (or from the caller, when filled by hand) and are valid as long as it is; only the
 * hardware_target array itself is owned (ctres_release). Nothing here is needed after
 * itypes_choose(): the queue keeps the choice, not this.
 */
struct ctres {
	int64_t ram;
	int64_t vcpus;
	int64_t keep_cache_ram;
	int64_t keep_cache_disk;
	struct ctres_gpu gpu;
	int64_t tmp_capacity;	     /* sum of the capacity of every "tmp" mount */
	bool tmp_overflow;	     /* that sum overflowed int64: unsatisfiable */
	const char *container_image; /* "" when unset */
	bool preemptible;	     /* scheduling_parameters.preemptible */
};

/* Zero values, "" strings: what Go's zero arvados.Container gives. */
void ctres_init(struct ctres *r);

/* Free the hardware_target array (not the strings) and re-init; idempotent. */
void ctres_release(struct ctres *r);

/*
 * Fill r (ctres_init first is not needed) from a container record: runtime_constraints,
 * container_image, scheduling_parameters and, when present, mounts. Returns 0, CTRES_EFIELD or
 * CTRES_EMOUNTS with a message in err (Go-like, e.g. "json: cannot unmarshal string into Go
 * struct field RuntimeConstraints.runtime_constraints.ram of type int64"), or -ENOMEM. On any
 * non-zero return r holds nothing to release.
 */
int ctres_parse(const cJSON *record, struct ctres *r, char *err, size_t errlen);

/*
 * Replace r's tmp-mount total from a "mounts" object alone (the queue fetches mounts with a
 * separate select=["mounts"] call, 2.5). null means no mounts. Returns 0 or CTRES_EMOUNTS.
 */
int ctres_parse_mounts(const cJSON *mounts, struct ctres *r, char *err, size_t errlen);

/*
 * Image-size estimate d of 3.1 from a portable data hash: when pdh matches
 * ^[0-9a-f]{32}\+(\d+)$ and the number n is >= 122, d = (n - 80) / 42 * 64 MiB, else 0 (also 0
 * when n does not fit int64, as Go's ParseInt fails). Returns 0, or -ERANGE when d overflows.
 */
int ctres_image_estimate(const char *pdh, int64_t *d);

/* scratch = max(tmp, d) + d + keep_cache_disk. 0 or -ERANGE. */
int ctres_scratch(const struct ctres *r, int64_t *scratch);

/* The RAM requirement of 3.1 (reserve, keepstore buffers, /95*100). 0 or -ERANGE. */
int ctres_ram(const struct ctres *r, const struct cfg_containers *cc, int64_t *ram);

/* The whole requirement vector (flag clear). 0, or -ERANGE: the request cannot be satisfied. */
int ctres_need(const struct ctres *r, const struct cfg_containers *cc, struct res_vec *need);

#endif
