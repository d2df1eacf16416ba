/*
 * ref_pass.c - the library's pass sources under the ref_ names (see ref_rename.h). Only the
 * index differs (ref_index.c); everything else is the code under test, so a difference in
 * decisions can only come from the index.
 */
#include "ref_rename.h"

#include "../../dispatcherd/sched/sched.c"
#include "../../dispatcherd/sched/sched_fallback.c"
#include "../../dispatcherd/sched/sched_order.c"
#include "../../dispatcherd/sched/sched_pass.c"
#include "../../dispatcherd/sched/sched_pass_finish.c"
#include "../../dispatcherd/sched/sched_pass_index.c"
#include "../../dispatcherd/sched/sched_spot.c"
