/* test_proto_pending.c - the reqid hash + deadline heap behind a channel's requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "proto_pending.h"

#define N 5000

/* Random inserts, removals and deadline changes; the heap minimum and hash lookups must
 * agree with a brute-force scan after every step. */
static void
test_pending_random(void **state)
{
	static struct proto_pend *live[N];
	struct proto_pend_table t;
	size_t nlive = 0;
	uint32_t next = 1;
	unsigned seed = 12345;

	(void)state;
	assert_int_equal(proto_pend_init(&t), 0);
	for (int step = 0; step < 4 * N; step++) {
		int op = rand_r(&seed) % 4;

		if ((op <= 1 && nlive < N) || nlive == 0) {
			struct proto_pend *p = calloc(1, sizeof(*p));

			assert_non_null(p);
			p->reqid = next++;
			p->deadline = (uint64_t)(rand_r(&seed) % 1000);
			assert_int_equal(proto_pend_add(&t, p), 0);
			live[nlive++] = p;
		} else if (op == 2) {
			size_t i = (size_t)rand_r(&seed) % nlive;

			proto_pend_remove(&t, live[i]);
			assert_null(proto_pend_find(&t, live[i]->reqid));
			free(live[i]);
			live[i] = live[--nlive];
		} else {
			size_t i = (size_t)rand_r(&seed) % nlive;

			proto_pend_set_deadline(&t, live[i], (uint64_t)(rand_r(&seed) % 1000));
		}
		if (nlive > 0) {
			uint64_t min = UINT64_MAX;

			for (size_t i = 0; i < nlive; i++)
				if (live[i]->deadline < min)
					min = live[i]->deadline;
			assert_true(proto_pend_min(&t)->deadline == min);
			assert_ptr_equal(proto_pend_find(&t, live[nlive / 2]->reqid),
					 live[nlive / 2]);
		} else {
			assert_null(proto_pend_min(&t));
		}
	}
	assert_int_equal(t.count, nlive);
	assert_null(proto_pend_find(&t, next));
	proto_pend_fini(&t); /* frees what is left */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
