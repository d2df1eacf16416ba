/*
 * ref_rename.h - the reference pass of test_sched_passref: the library's own pass sources,
 * compiled a second time under these names and linked with the brute-force index of
 * ref_index.c, so the test binary holds both passes side by side. sched_leaf_key is not
 * renamed: a leaf's key is the policy both indexes share, so the reference uses the library's.
 */
#ifndef ADC_TEST_REF_RENAME_H
#define ADC_TEST_REF_RENAME_H

#define sched_new		   ref_sched_new
#define sched_free		   ref_sched_free
#define sched_set_spot_fallback	   ref_sched_set_spot_fallback
#define sched_pass_available	   ref_sched_pass_available
#define sched_pass_pick		   ref_sched_pass_pick
#define sched_fallback_note	   ref_sched_fallback_note
#define sched_fallback_status	   ref_sched_fallback_status
#define sched_fallback_at_capacity ref_sched_fallback_at_capacity
#define sched_quota_state	   ref_sched_quota_state
#define sched_pass		   ref_sched_pass
#define sched_pass_at_quota	   ref_sched_pass_at_quota
#define sched_pass_index	   ref_sched_pass_index
#define sched_pass_best		   ref_sched_pass_best
#define sched_pass_place	   ref_sched_pass_place
#define sched_pass_placeholder	   ref_sched_pass_placeholder
#define sched_pass_finish	   ref_sched_pass_finish
#define sched_create_allowed	   ref_sched_create_allowed
#define sched_spot_replace	   ref_sched_spot_replace
#define sched_order		   ref_sched_order
#define sched_tree_reset	   ref_sched_tree_reset
#define sched_tree_build	   ref_sched_tree_build
#define sched_tree_update	   ref_sched_tree_update
#define sched_tree_append	   ref_sched_tree_append
#define sched_tree_best		   ref_sched_tree_best
#define sched_tree_best_from	   ref_sched_tree_best_from
#define sched_tree_free		   ref_sched_tree_free

#endif
