/* sched_pass.h - state of one scheduling pass (4.2), shared by sched_pass*.c only. */
#ifndef ADC_SCHED_PASS_H
#define ADC_SCHED_PASS_H

#include "sched_internal.h"

struct sched_pass {
	struct sched *s;
	const struct sched_input *in;
	struct sched_result *out;
	const struct sched_okey *keys; /* the queue in order */
	struct sched_order_sums sums;
	int64_t max_containers, max_supervisors, max_per_instance;
	int64_t trying, supervisors;
	int64_t n_workers, n_pending; /* N (instances with an ID) and pending creates */
	int64_t n_promised;	      /* instances owed to containers locked with nowhere to run */
	uint32_t qpos;
	size_t overquota_from; /* position in keys where overquota starts; n if none */
	size_t n_oms;	       /* over-max-supervisors, in s->oms */
	bool create_blocked;   /* a create was refused: the pool refuses the rest too */
	bool wants_instance;   /* a container of this pass waits for a new instance */
	double spend;	       /* hourly spend of the instances so far (sched_budget.c) */
	double spend_going;    /* the part of it on instances being shut down */
	bool budget_blocked;   /* a create met the cap: no later one jumps the queue */
};

/* What one container may use this pass (sched_fallback.c): the best instance (bt, leaf bj),
 * else the type to create (avail, -1: none available), and the fallback in force (fb). */
struct sched_pick {
	bool best;
	uint32_t bt, bj;
	int64_t avail;
	uint8_t fb; /* enum sched_fallback */
};

int sched_pass_index(struct sched_pass *x);
bool sched_pass_best(struct sched_pass *x, const uint32_t *types, uint32_t n,
		     const struct res_vec *need, uint32_t *type, uint32_t *leaf);
/* 4.2 step 5.6 over types[0..n): the first not held at capacity, or -1. */
int64_t sched_pass_available(const struct sched_pass *x, const uint32_t *types, uint32_t n);
/* Steps 5.5-5.6 for c, with the spot fallback (sched_fallback.c). */
void sched_pass_pick(struct sched_pass *x, const struct sched_ctr *c, struct sched_pick *p);
/* c acts on its fallback (fb != 0): the SCHED_D_FALLBACK decision the first time. 0 or -ENOMEM. */
int sched_fallback_note(struct sched_pass *x, size_t ci, uint8_t fb);
/* The status of a container placed on leaf (WAITING_NEW or PREPARING, or their fallback
 * forms) and of one with nowhere to go (AT_CAPACITY or FALLBACK_AT_CAPACITY). */
struct sched_status sched_fallback_status(uint8_t code, uint8_t fb, uint32_t type);
struct sched_status sched_fallback_at_capacity(struct sched_pass *x, uint8_t fb);
int sched_pass_place(struct sched_pass *x, uint32_t type, uint32_t j, const struct res_vec *need);
int sched_pass_placeholder(struct sched_pass *x, uint32_t type, const struct res_vec *need);
bool sched_pass_at_quota(const struct sched_pass *x);
/* Whether the pool would accept a create now (5.5 steps 1-2); may set create_blocked. */
bool sched_create_allowed(struct sched_pass *x);
/* sched_spot.c: room, or new instances, for the runners of spot-noticed workers. 0/-ENOMEM. */
int sched_spot_replace(struct sched_pass *x);
int sched_pass_finish(struct sched_pass *x);

/* sched_budget.c: the budget cap. start sums the spend; allows says whether an instance of
 * type fits under the cap (charge counts one created); status is the AT_BUDGET status;
 * shutdowns sheds idle instances while the spend is over the cap. */
void sched_budget_start(struct sched_pass *x);
bool sched_budget_allows(struct sched_pass *x, uint32_t type);
void sched_budget_charge(struct sched_pass *x, uint32_t type);
struct sched_status sched_budget_status(const struct sched_pass *x);
int sched_budget_shutdowns(struct sched_pass *x);

#endif
