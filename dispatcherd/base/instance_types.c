/*
 * instance_types.c - choose a container's candidate instance types (spec/dispatcher.md 3.2-3.5).
 *
 * The reference scans the types in map order with a running price ceiling, then sorts the
 * accepted ones and truncates at the final ceiling (cheapest price x factor). The sort key
 * (price, -RAM, -VCPUs, -Scratch, name) does not depend on the container, so the table ranks
 * the types once and each selection walks that ranking: the first eligible type is the
 * cheapest, its price x factor is the final ceiling, and the walk stops at the first type
 * priced above it. For finite non-negative prices this gives exactly the reference's list
 * (tests/itypes check it against a literal transcription of the scan on shuffled menus).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance_types.h"
#include "instance_types_gpu.h"

struct itypes_table {
	const struct cfg_cluster *c;
	double factor;		/* max(MaximumPriceFactor, 1) */
	double fallback_factor; /* -spot-fallback-price-factor; 0: no on-demand fallback list */
	uint32_t n;
	uint32_t *rank;		     /* config indices in selection order */
	struct itypes_gpu_type *gpu; /* by config index */
};

/* What itypes_choose() compares every type against, computed once per call. */
struct itypes_req {
	struct res_vec need;
	bool preemptible;
	struct itypes_gpu_req gpu;
};

/* NaN last, so that the order stays total even for a price the loader should have refused. */
static int
itypes_price_cmp(double a, double b)
{
	int na = isnan(a) != 0, nb = isnan(b) != 0;

	if (na || nb)
		return na - nb;
	return a < b ? -1 : a > b;
}

/* Selection order: price ascending, then more RAM, VCPUs, Scratch first, then by name. */
static int
itypes_rank_cmp(const void *pa, const void *pb)
{
	const struct cfg_instance_type *a = *(const struct cfg_instance_type *const *)pa;
	const struct cfg_instance_type *b = *(const struct cfg_instance_type *const *)pb;
	int c;

	if ((c = itypes_price_cmp(a->price, b->price)) != 0)
		return c;
	if (a->ram != b->ram)
		return a->ram > b->ram ? -1 : 1;
	if (a->vcpus != b->vcpus)
		return a->vcpus > b->vcpus ? -1 : 1;
	if (a->scratch != b->scratch)
		return a->scratch > b->scratch ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
itypes_table_rank(struct itypes_table *t)
{
	const struct cfg_instance_type **v;

	if ((v = calloc(t->n, sizeof(*v))) == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++)
		v[i] = &t->c->instance_types[i];
	qsort(v, t->n, sizeof(*v), itypes_rank_cmp);
	for (uint32_t i = 0; i < t->n; i++)
		t->rank[i] = (uint32_t)(v[i] - t->c->instance_types);
	free(v);
	return 0;
}

int
itypes_table_new(const struct cfg_cluster *c, struct itypes_table **out)
{
	struct itypes_table *t;
	double mpf = c->containers.maximum_price_factor;

	*out = NULL;
	if (c->n_instance_types > UINT32_MAX)
		return -E2BIG;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->c = c;
	t->n = (uint32_t)c->n_instance_types;
	/* Values below 1 act as 1 (NaN too, where Go's math.Max would disable the ceiling). */
	t->factor = mpf > 1 ? mpf : 1;
	if (t->n > 0) {
		t->rank = calloc(t->n, sizeof(*t->rank));
		t->gpu = calloc(t->n, sizeof(*t->gpu));
		if (t->rank == NULL || t->gpu == NULL || itypes_table_rank(t) != 0) {
			itypes_table_free(t);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < t->n; i++)
		itypes_gpu_type_init(&t->gpu[i], &c->instance_types[i].gpu);
	*out = t;
	return 0;
}

void
itypes_table_free(struct itypes_table *t)
{
	if (t == NULL)
		return;
	free(t->rank);
	free(t->gpu);
	free(t);
}

void
itypes_table_set_spot_fallback(struct itypes_table *t, double factor)
{
	t->fallback_factor = isfinite(factor) && factor > 0 ? factor : 0;
}

const uint32_t *
itypes_table_ranked(const struct itypes_table *t, size_t *n)
{
	*n = t->n;
	return t->rank;
}

/* 3.2, every rule but the price ceiling (the walk handles that). */
static bool
itypes_eligible(const struct itypes_table *t, uint32_t i, const struct itypes_req *q)
{
	const struct cfg_instance_type *it = &t->c->instance_types[i];

	if (it->scratch < q->need.scratch || it->ram < q->need.ram || it->vcpus < q->need.vcpus)
		return false;
	if (it->preemptible != q->preemptible)
		return false;
	/* GPU types never serve non-GPU containers, and vice versa. */
	if (it->gpu.stack != q->gpu.stack)
		return false;
	if (it->gpu.device_count < q->need.gpus || it->gpu.vram < q->need.gpu_vram)
		return false;
	return itypes_gpu_ok(&q->gpu, &t->gpu[i], &it->gpu);
}

/* Walk the ranking; buf has room for t->n entries. Returns how many were accepted. */
static uint32_t
itypes_walk(const struct itypes_table *t, const struct itypes_req *q, uint32_t *buf)
{
	uint32_t k = 0;
	double ceiling = 0;

	for (uint32_t j = 0; j < t->n; j++) {
		uint32_t i = t->rank[j];
		double price = t->c->instance_types[i].price;

		/* Sorted by price: once past the ceiling, nothing later can be accepted. */
		if (k > 0 && !(price <= ceiling))
			break;
		if (!itypes_eligible(t, i, q))
			continue;
		if (k == 0)
			ceiling = price * t->factor;
		buf[k++] = i;
	}
	return k;
}

#define ITYPES_STACK_PREFIX "Invalid GPU stack "
#define ITYPES_STACK_SUFFIX ", expected to be blank or one of 'cuda' or 'rocm'"

static int
itypes_fail(int code, char *err, size_t errlen, const char *stack)
{
	/* Sized so that the whole text fits ITYPES_ERR_MAX; a longer stack is cut short. */
	char quoted[ITYPES_ERR_MAX - sizeof(ITYPES_STACK_PREFIX ITYPES_STACK_SUFFIX) + 1];

	if (err == NULL || errlen == 0)
		return code;
	if (code == ITYPES_NOT_CONFIGURED) {
		snprintf(err, errlen, "%s", ITYPES_ERR_NOT_CONFIGURED);
	} else if (code == ITYPES_UNSATISFIABLE) {
		snprintf(err, errlen, "%s", ITYPES_ERR_UNSATISFIABLE);
	} else {
		itypes_gpu_quote(stack, quoted, sizeof(quoted));
		snprintf(err, errlen, ITYPES_STACK_PREFIX "%s" ITYPES_STACK_SUFFIX, quoted);
	}
	return code;
}

/* Copy the accepted indices, then the fallback ones, into one array owned by the choice. */
static int
itypes_keep(struct itypes_choice *out, const uint32_t *buf, uint32_t k, const uint32_t *fb,
	    uint32_t nf)
{
	if ((out->idx = malloc((k + nf) * sizeof(*out->idx))) == NULL)
		return -ENOMEM;
	memcpy(out->idx, buf, k * sizeof(*out->idx));
	if (nf > 0)
		memcpy(out->idx + k, fb, nf * sizeof(*out->idx));
	out->n = k;
	out->n_fallback = nf;
	return 0;
}

/*
 * The on-demand fallback list of a preemptible request (an addition, docs/SCHEDULER.md "Spot
 * to on-demand fallback"): the candidates the same request would get were it not
 * preemptible (3.2-3.4, MaximumPriceFactor included), cut at fallback_factor x the price of
 * its preemptible choice (the cheapest preemptible candidate, spot_price). Into fb (room for
 * t->n); returns how many, at most ITYPES_FALLBACK_MAX.
 */
static uint32_t
itypes_fallback(const struct itypes_table *t, const struct itypes_req *q, double spot_price,
		uint32_t *fb)
{
	struct itypes_req od = *q;
	double ceiling = spot_price * t->fallback_factor;
	uint32_t k, nf = 0;

	if (!q->preemptible || !(t->fallback_factor > 0))
		return 0;
	od.preemptible = false;
	k = itypes_walk(t, &od, fb);
	/* Cheapest first: the first one above the ceiling ends the list. */
	while (nf < k && nf < ITYPES_FALLBACK_MAX && t->c->instance_types[fb[nf]].price <= ceiling)
		nf++;
	return nf;
}

int
itypes_choose(const struct itypes_table *t, const struct ctres *r, struct itypes_choice *out,
	      char *err, size_t errlen)
{
	struct itypes_req q;
	enum cfg_gpu_stack stack;
	uint32_t local[64], *buf = local, k, nf = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (t->n == 0)
		return itypes_fail(ITYPES_NOT_CONFIGURED, err, errlen, NULL);
	if (itypes_gpu_stack(r->gpu.stack, &stack) != 0)
		return itypes_fail(ITYPES_INVALID_GPU_STACK, err, errlen, r->gpu.stack);
	/* A requirement beyond int64 exceeds every type: unsatisfiable, not a wrapped number. */
	if (ctres_need(r, &t->c->containers, &q.need) != 0)
		return itypes_fail(ITYPES_UNSATISFIABLE, err, errlen, NULL);
	q.preemptible = r->preemptible;
	itypes_gpu_req_init(&q.gpu, &r->gpu, stack);
	/* Room for the candidates and, after them, the fallback list. */
	if (2 * (size_t)t->n > sizeof(local) / sizeof(local[0]) &&
	    (buf = malloc(2 * (size_t)t->n * sizeof(*buf))) == NULL)
		return -ENOMEM;
	k = itypes_walk(t, &q, buf);
	if (k > 0)
		nf = itypes_fallback(t, &q, t->c->instance_types[buf[0]].price, buf + t->n);
	if (k == 0)
		rc = itypes_fail(ITYPES_UNSATISFIABLE, err, errlen, NULL);
	else if ((rc = itypes_keep(out, buf, k, buf + t->n, nf)) == 0)
		out->need = q.need;
	if (buf != local)
		free(buf);
	return rc;
}

void
itypes_choice_free(struct itypes_choice *c)
{
	free(c->idx);
	memset(c, 0, sizeof(*c));
}

const struct cfg_instance_type *
itypes_choice_type(const struct itypes_table *t, const struct itypes_choice *c, uint32_t i)
{
	return &t->c->instance_types[c->idx[i]];
}
