/*
 * container_resources.c - the resources a container needs (spec/dispatcher.md 3.1).
 *
 * The reference does this in Go int64 arithmetic, which wraps silently. Here every step is
 * checked: a request whose requirement does not fit int64 can never fit an instance, so the
 * caller treats -ERANGE as "not satisfiable" instead of comparing a wrapped number.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container_resources.h"

/* Integer division truncates toward zero in C as in Go; the reference multiplies first. */
#define CTRES_DISCOUNT_PERCENT 5
#define CTRES_KEEPSTORE_BASE   (220 * CTRES_MIB)
#define CTRES_BLOCK_SIZE       (64 * CTRES_MIB)

void
ctres_init(struct ctres *r)
{
	memset(r, 0, sizeof(*r));
	r->gpu.stack = "";
	r->gpu.driver_version = "";
	r->container_image = "";
}

void
ctres_release(struct ctres *r)
{
	free(r->gpu.hardware_target);
	ctres_init(r);
}

static bool
ctres_is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * The regexp ^[0-9a-f]{32}\+(\d+)$, by hand: 32 lowercase hex digits, '+', then one or more
 * ASCII digits up to the end (Go's \d is ASCII-only and $ is end of text). The digits go
 * through ParseInt semantics: a value beyond int64 is a parse failure, hence an estimate of 0.
 */
static bool
ctres_pdh_size(const char *pdh, int64_t *n)
{
	const char *p = pdh;
	int64_t v = 0;

	for (int i = 0; i < 32; i++, p++)
		if (!ctres_is_hex_lower(*p))
			return false;
	if (*p++ != '+')
		return false;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
			return false;
	}
	*n = v;
	return true;
}

int
ctres_image_estimate(const char *pdh, int64_t *d)
{
	int64_t n;

	*d = 0;
	if (pdh == NULL || !ctres_pdh_size(pdh, &n) || n < 122)
		return 0;
	/* One 64 MiB block per 42 manifest characters after an 80-character overhead. */
	if (__builtin_mul_overflow((n - 80) / 42, CTRES_BLOCK_SIZE, d))
		return -ERANGE;
	return 0;
}

int
ctres_scratch(const struct ctres *r, int64_t *scratch)
{
	int64_t d, s;
	int rc;

	if (r->tmp_overflow)
		return -ERANGE;
	if ((rc = ctres_image_estimate(r->container_image, &d)) != 0)
		return rc;
	/* The image tarball is buffered during load (at least d), then extracted (another d). */
	s = r->tmp_capacity > d ? r->tmp_capacity : d;
	if (__builtin_add_overflow(s, d, &s) || __builtin_add_overflow(s, r->keep_cache_disk, &s))
		return -ERANGE;
	*scratch = s;
	return 0;
}

int
ctres_ram(const struct ctres *r, const struct cfg_containers *cc, int64_t *ram)
{
	int64_t v, buf;

	if (__builtin_add_overflow(r->ram, r->keep_cache_ram, &v) ||
	    __builtin_add_overflow(v, cc->reserve_extra_ram, &v))
		return -ERANGE;
	if (cc->local_keep_blob_buffers_per_vcpu > 0) {
		/* keepstore: 200 MiB + 10% GC headroom, then 64 MiB per buffer + 10%. */
		if (__builtin_mul_overflow(cc->local_keep_blob_buffers_per_vcpu, r->vcpus, &buf) ||
		    __builtin_mul_overflow(buf, CTRES_BLOCK_SIZE, &buf) ||
		    __builtin_mul_overflow(buf, 11, &buf))
			return -ERANGE;
		buf /= 10;
		if (__builtin_add_overflow(v, CTRES_KEEPSTORE_BASE, &v) ||
		    __builtin_add_overflow(v, buf, &v))
			return -ERANGE;
	}
	/* The instance's nominal RAM is discounted by 5%: ask for 100/95 of the need. */
	if (__builtin_mul_overflow(v, 100, &v))
		return -ERANGE;
	*ram = v / (100 - CTRES_DISCOUNT_PERCENT);
	return 0;
}

int
ctres_need(const struct ctres *r, const struct cfg_containers *cc, struct res_vec *need)
{
	int rc;

	memset(need, 0, sizeof(*need));
	if ((rc = ctres_ram(r, cc, &need->ram)) != 0)
		return rc;
	if ((rc = ctres_scratch(r, &need->scratch)) != 0)
		return rc;
	need->vcpus = r->vcpus;
	need->gpus = r->gpu.device_count;
	need->gpu_vram = r->gpu.vram;
	return 0;
}
