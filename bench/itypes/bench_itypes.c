/*
 * bench_itypes.c - time instance-type selection: 100,000 containers against 50 instance types.
 *
 * Prints the median, over several runs, of the time per container for
 *   select:        itypes_choose() on an already-parsed request (what the queue does once per
 *                  new container), including freeing the choice;
 *   parse+select:  ctres_parse() from a cJSON record (tree already built) plus the above.
 * Usage: bench_itypes [runs]   (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_stats.h"
#include "container_resources.h"
#include "instance_types.h"

#define NTYPES 50
#define NCTR   100000
#define GiB    ((int64_t)1 << 30)

static uint64_t rng = 88172645463325252u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 5 families x 10 sizes; every 4th preemptible, family 4 has GPUs. */
static void
make_types(struct cfg_cluster *c, char names[][16])
{
	static struct cfg_instance_type v[NTYPES];

	for (int i = 0; i < NTYPES; i++) {
		int fam = i / 10, size = 1 + i % 10;

		snprintf(names[i], 16, "f%d.s%d%s", fam, size, i % 4 == 3 ? "p" : "");
		v[i] = (struct cfg_instance_type){
			.name = names[i],
			.provider_type = names[i],
			.vcpus = 2 * size,
			.ram = (int64_t)size * (4 + 2 * fam) * GiB,
			.scratch = (int64_t)size * 50 * GiB,
			.price = 0.05 * size * (1 + 0.2 * fam) * (i % 4 == 3 ? 0.4 : 1),
			.preemptible = i % 4 == 3,
			.gpu = { .stack = fam == 4 ? CFG_GPU_CUDA : CFG_GPU_NONE,
				 .driver_version = fam == 4 ? "12.1" : "",
				 .hardware_target = fam == 4 ? "8.6" : "",
				 .device_count = fam == 4 ? (size + 1) / 2 : 0,
				 .vram = fam == 4 ? 24 * GiB : 0 },
		};
	}
	c->instance_types = v;
	c->n_instance_types = NTYPES;
	c->containers.reserve_extra_ram = 550 << 20;
	c->containers.local_keep_blob_buffers_per_vcpu = 1;
	c->containers.maximum_price_factor = 1.5;
}

static const char *gpu_targets[] = { "8.0" };

static void
make_request(struct ctres *r)
{
	ctres_init(r);
	r->vcpus = 1 + rnd(24); /* above 20: no type fits, the whole menu is scanned */
	r->ram = (int64_t)(1 + rnd(64)) * GiB / 2;
	r->keep_cache_ram = rnd(2) ? 0 : GiB / 4;
	r->tmp_capacity = (int64_t)rnd(200) * GiB;
	r->container_image = "d5025c0f29f6eef304a7358afa82a822+342";
	r->preemptible = rnd(3) == 0;
	if (rnd(10) == 0) {
		r->gpu.stack = "cuda";
		r->gpu.device_count = 1 + rnd(2);
		r->gpu.driver_version = "11.0";
		r->gpu.hardware_target = gpu_targets;
		r->gpu.n_hardware_target = 1;
		r->gpu.vram = 16 * GiB;
	}
}

static cJSON *
make_record(const struct ctres *r)
{
	char buf[1024], gpu[256] = "";

	if (r->gpu.device_count > 0)
		snprintf(gpu, sizeof(gpu),
			 ",\"gpu\":{\"stack\":\"cuda\",\"device_count\":%lld,"
			 "\"driver_version\":\"11.0\",\"hardware_target\":[\"8.0\"],"
			 "\"vram\":%lld}",
			 (long long)r->gpu.device_count, (long long)r->gpu.vram);

	snprintf(buf, sizeof(buf),
		 "{\"uuid\":\"zzzzz-dz642-000000000000000\",\"state\":\"Queued\",\"priority\":1,"
		 "\"container_image\":\"%s\",\"runtime_constraints\":{\"ram\":%lld,\"vcpus\":%lld,"
		 "\"keep_cache_ram\":%lld,\"API\":false%s},"
		 "\"scheduling_parameters\":{\"preemptible\":%s},"
		 "\"mounts\":{\"/tmp\":{\"kind\":\"tmp\",\"capacity\":%lld},"
		 "\"/keep\":{\"kind\":\"collection\",\"portable_data_hash\":\"x\"}}}",
		 r->container_image, (long long)r->ram, (long long)r->vcpus,
		 (long long)r->keep_cache_ram, gpu, r->preemptible ? "true" : "false",
		 (long long)r->tmp_capacity);
	return cJSON_Parse(buf);
}

/* One pass over every container; returns elapsed ns. parse: start from the cJSON records. */
static uint64_t
run(const struct itypes_table *t, struct ctres *reqs, cJSON **recs, int parse, size_t *accepted)
{
	struct itypes_choice ch;
	struct ctres tmp;
	uint64_t t0 = now_ns();

	*accepted = 0;
	for (size_t i = 0; i < NCTR; i++) {
		struct ctres *r = &reqs[i];

		if (parse) {
			if (ctres_parse(recs[i], &tmp, NULL, 0) != 0)
				abort();
			r = &tmp;
		}
		if (itypes_choose(t, r, &ch, NULL, 0) == 0)
			(*accepted)++;
		itypes_choice_free(&ch);
		if (parse)
			ctres_release(&tmp);
	}
	return now_ns() - t0;
}

int
main(int argc, char **argv)
{
	static char names[NTYPES][16];
	struct cfg_cluster c = { 0 };
	struct itypes_table *t;
	struct ctres *reqs = calloc(NCTR, sizeof(*reqs));
	cJSON **recs = calloc(NCTR, sizeof(*recs));
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	uint64_t el[2][64];
	double med[2];
	size_t accepted = 0;

	if (runs < 1 || runs > 64 || reqs == NULL || recs == NULL)
		return 2;
	make_types(&c, names);
	if (itypes_table_new(&c, &t) != 0)
		return 1;
	for (size_t i = 0; i < NCTR; i++) {
		make_request(&reqs[i]);
		if ((recs[i] = make_record(&reqs[i])) == NULL)
			return 1;
	}
	for (int p = 0; p < 2; p++) {
		run(t, reqs, recs, p, &accepted); /* warm-up */
		for (int k = 0; k < runs; k++)
			el[p][k] = run(t, reqs, recs, p, &accepted);
		med[p] = bench_median_u64(el[p], (size_t)runs); /* sorts: min first, max last */
	}
	printf("instance-type selection: %d containers x %d types, %d runs, %zu satisfiable\n",
	       NCTR, NTYPES, runs, accepted);
	printf("select:        median %.1f ns/container (min %.1f, max %.1f)\n", med[0] / NCTR,
	       (double)el[0][0] / NCTR, (double)el[0][runs - 1] / NCTR);
	printf("parse+select:  median %.1f ns/container (min %.1f, max %.1f)\n", med[1] / NCTR,
	       (double)el[1][0] / NCTR, (double)el[1][runs - 1] / NCTR);
	for (size_t i = 0; i < NCTR; i++)
		cJSON_Delete(recs[i]);
	free(recs);
	free(reqs);
	itypes_table_free(t);
	return 0;
}
