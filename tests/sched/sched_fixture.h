/*
 * sched_fixture.h - a small world for the scheduler tests: a menu of types "type1".."type16"
 * (typeN: N VCPUs, N GiB RAM, N x 10 GiB scratch, price N), containers whose candidates come
 * from the real itypes_choose(), workers, and a simulator that carries decisions out the way
 * the queue and the pool would.
 */
#ifndef ADC_TEST_SCHED_FIXTURE_H
#define ADC_TEST_SCHED_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "instance_types.h"
#include "scheduler.h"

#define FX_MAX_CTRS    64
#define FX_MAX_WORKERS 64
#define FX_MAX_RUN     32
#define FX_GiB	       ((int64_t)1 << 30)
#define FX_MiB	       ((int64_t)1 << 20)

struct fx_world {
	struct cfg_cluster *cl;
	struct itypes_table *tt;
	struct sched *s;
	struct sched_ctr c[FX_MAX_CTRS];
	struct itypes_choice ch[FX_MAX_CTRS];
	struct sched_memo memo[FX_MAX_CTRS]; /* c[i].memo is i + 1 */
	char uuid[FX_MAX_CTRS][32];
	size_t nc;
	struct sched_worker w[FX_MAX_WORKERS];
	struct sched_wrun run[FX_MAX_WORKERS][FX_MAX_RUN];
	char wid[FX_MAX_WORKERS][32];
	size_t nw;
	bool at_cap[32];
	struct sched_input in;
	struct sched_result r;
	int next_instance;
	int unlocks[FX_MAX_CTRS]; /* UNLOCKs carried out per container */
	bool preemptible;	  /* fx_ctr makes preemptible containers while set */
};

/* types: a bitmask of the typeN to configure (bit N), e.g. 0x1fffe for type1..type16. */
struct fx_world *fx_new(uint32_t types, double price_factor, int64_t max_instances);
void fx_free(struct fx_world *f);
/* After changing config fields: rebuild the scheduler (and its 4.3 state). */
void fx_resched(struct fx_world *f);

/* Container "ctr-<prio>" unless name given; returns its index. ram in bytes. */
int fx_ctr(struct fx_world *f, const char *name, enum sched_cstate st, int64_t prio, int64_t vcpus,
	   int64_t ram);
int fx_ctr_index(const struct fx_world *f, const char *name);
int
fx_worker(struct fx_world *f, const char *id, int type, enum sched_wstate st, enum sched_idle idle);
/* List container ci as running on worker wi (in R, Running state unless keep_state). */
void fx_run_on(struct fx_world *f, int ci, int wi, bool keep_state);

int fx_pass(struct fx_world *f);
int fx_sync(struct fx_world *f);
size_t fx_count(const struct fx_world *f, enum sched_dkind k);
/* The decision of kind k for container name, or NULL. */
const struct sched_decision *
fx_find(const struct fx_world *f, enum sched_dkind k, const char *name);
/* The rendered status of container name (static buffer). */
const char *fx_status(const struct fx_world *f, const char *name);
/* Names of the containers started, in decision order, "a b c" (static buffer). */
const char *fx_started(const struct fx_world *f);
const char *fx_created(const struct fx_world *f);
/* Carry the last result's decisions out; created instances boot straight to idle when
 * boot_now, else appear as booting. */
void fx_apply(struct fx_world *f, bool boot_now);

#endif
