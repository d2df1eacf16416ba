/*
 * instance_types_res.c - resource vectors for packing containers onto instances (spec 3.6).
 *
 * Kept exactly as the reference, quirks included: 0-VCPU containers share one "fractional"
 * VCPU, and GPU VRAM (a per-device amount) is decremented by each container's per-device
 * request, so GPU containers share an instance only if their VRAM requests together fit one
 * device.
 */
#include <stdint.h>

#include "instance_types.h"

struct res_vec
itypes_capacity(const struct cfg_instance_type *it)
{
	/* Nominal RAM: the 5% discount is already in the requirement (3.1). */
	struct res_vec r = {
		.vcpus = it->vcpus,
		.ram = it->ram,
		.scratch = it->scratch,
		.gpus = it->gpu.device_count,
		.gpu_vram = it->gpu.vram,
		.shared_vcpu_used = false,
	};

	return r;
}

/* a - b, pinned to the int64 range (an over-committed instance is just "very full"). */
static int64_t
itypes_sat_sub(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d))
		return b > 0 ? INT64_MIN : INT64_MAX;
	return d;
}

struct res_vec
itypes_sub(struct res_vec r, struct res_vec q)
{
	r.vcpus = itypes_sat_sub(r.vcpus, q.vcpus);
	r.ram = itypes_sat_sub(r.ram, q.ram);
	r.scratch = itypes_sat_sub(r.scratch, q.scratch);
	r.gpus = itypes_sat_sub(r.gpus, q.gpus);
	r.gpu_vram = itypes_sat_sub(r.gpu_vram, q.gpu_vram);
	if (q.vcpus == 0)
		r.shared_vcpu_used = true;
	return r;
}

bool
itypes_accommodates(struct res_vec r, struct res_vec q)
{
	return r.vcpus >= q.vcpus && r.ram >= q.ram && r.scratch >= q.scratch && r.gpus >= q.gpus &&
	       r.gpu_vram >= q.gpu_vram && r.vcpus > 0 &&
	       (!r.shared_vcpu_used || r.vcpus > q.vcpus);
}
