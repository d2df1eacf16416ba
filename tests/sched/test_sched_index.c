/*
 * test_sched_index.c - weakness 15: the per-type tree must pick exactly what the reference's
 * linear scan would (under our preference key): the first, in instance order, of the leaves
 * with the highest key that accommodate the request. Random trees, random requests, placements
 * and growth, checked against a brute-force scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sched_internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static struct res_vec
rnd_vec(int64_t scale)
{
	return (struct res_vec){
		.vcpus = rnd(5),
		.ram = rnd(5) * scale,
		.scratch = rnd(5) * scale,
		.gpus = rnd(3) == 0 ? rnd(2) : 0,
		.gpu_vram = rnd(4) == 0 ? rnd(3) : 0,
		.shared_vcpu_used = rnd(4) == 0,
	};
}

static int32_t
brute_best(const struct sched_tree *t, const struct res_vec *q)
{
	int32_t best = -1;

	for (uint32_t j = 0; j < t->n; j++) {
		const struct sched_leaf *l = &t->leaf[j];

		if (l->key < 0 || !itypes_accommodates(l->rem, *q))
			continue;
		if (best < 0 || l->key > t->leaf[best].key)
			best = (int32_t)j;
	}
	return best;
}

static void
random_trees(void **unused)
{
	(void)unused;
	for (int round = 0; round < 300; round++) {
		struct sched_tree t = { 0 };
		uint32_t n = 1 + rnd(round < 150 ? 40 : 700);
		int64_t max_per = rnd(3) == 0 ? 1 + rnd(4) : 0;

		assert_int_equal(sched_tree_reset(&t, n), 0);
		for (uint32_t j = 0; j < n; j++) {
			struct sched_leaf *l = &t.leaf[t.n++];

			*l = (struct sched_leaf){ .rem = rnd_vec(10),
						  .worker = (int32_t)j,
						  .n_listed = rnd(4),
						  .ready = rnd(2) };
			l->key = sched_leaf_key(l, max_per);
		}
		sched_tree_build(&t);
		for (int k = 0; k < 200; k++) {
			struct res_vec q = rnd_vec(10);
			int32_t want, got;

			q.shared_vcpu_used = false;
			want = brute_best(&t, &q);
			got = sched_tree_best(&t, &q);
			assert_int_equal(got, want);
			if (got >= 0 && rnd(2)) {
				struct sched_leaf *l = &t.leaf[got];

				l->rem = itypes_sub(l->rem, q);
				l->n_listed++;
				l->key = sched_leaf_key(l, max_per);
				sched_tree_update(&t, (uint32_t)got);
			} else if (rnd(8) == 0) {
				struct sched_leaf l = { .rem = rnd_vec(10),
							.worker = -1,
							.n_listed = 1 };

				l.key = sched_leaf_key(&l, max_per);
				assert_int_equal(sched_tree_append(&t, &l), 0);
			}
		}
		sched_tree_free(&t);
	}
}

static void
empty_and_dead(void **unused)
{
	struct sched_tree t = { 0 };
	struct sched_leaf l = { .rem = { .vcpus = 0, .ram = 100 }, .n_listed = 0, .ready = true };
	struct res_vec q = { 0 };

	(void)unused;
	assert_int_equal(sched_tree_best(&t, &q), -1);
	l.key = sched_leaf_key(&l, 0);
	assert_int_equal(l.key, -1); /* no VCPU left: accepts nothing, even a 0-VCPU request */
	assert_int_equal(sched_tree_append(&t, &l), 0);
	assert_int_equal(sched_tree_best(&t, &q), -1);
	l.rem.vcpus = 1;
	l.n_listed = 2;
	assert_int_equal(sched_leaf_key(&l, 2), -1); /* at MaxRunningContainersPerInstance */
	assert_int_equal(sched_leaf_key(&l, 3), SCHED_KEY_READY + 2);
	sched_tree_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_trees),
		cmocka_unit_test(empty_and_dead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
