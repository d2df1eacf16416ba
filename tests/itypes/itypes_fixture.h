/* itypes_fixture.h - build cfg_cluster menus in C for the instance-type tests (no config loader). */
#ifndef ADC_TEST_ITYPES_FIXTURE_H
#define ADC_TEST_ITYPES_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "container_resources.h"
#include "instance_types.h"

#define GiB ((int64_t)1 << 30)
#define MiB ((int64_t)1 << 20)

/* One menu entry; unset GPU fields mean "no GPU" (stack NONE, "" strings). */
struct fx_type {
	const char *name;
	double price;
	int64_t ram, vcpus, scratch;
	bool preemptible;
	enum cfg_gpu_stack stack;
	const char *driver, *hw;
	int64_t devices, vram;
};

/* A cluster whose instance_types are v[0..n) in that order (not re-sorted). */
struct cfg_cluster *fx_cluster(const struct fx_type *v, size_t n);
void fx_cluster_free(struct cfg_cluster *c);

/*
 * Choose for r against c; on success write the candidate names joined by ", " into names
 * (the queue's log format) and return 0; else return the itypes_choose code with the error
 * text in names.
 */
int fx_choose(const struct cfg_cluster *c, const struct ctres *r, char *names, size_t len);

/* A container asking for ram/vcpus (everything else zero). */
struct ctres fx_ctr(int64_t ram, int64_t vcpus);

#endif
