/*
 * cloudtest_internal.h - the cloudtest subcommand's state, shared by its files:
 * cloudtest.c (the flags, the set-up and the step sequence, ct_next), cloudtest_steps.c
 * (create, find, probe, destroy: the cloud and SSH calls of each step) and
 * cloudtest_helpers.c (cloudd and sshd-pool started, their init, ready, stop).
 */
#ifndef ADC_CLOUDTEST_INTERNAL_H
#define ADC_CLOUDTEST_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "proto_cloud.h"

#define CT_CALL_MS	 120000u
#define CT_STOP_GRACE_MS 1500
#define CT_MAX_FOUND	 PROTO_MAX_DESTROY_IDS
#define CT_NOF		 ((const struct log_field[]){ LF_END })

enum ct_step {
	CT_START,
	CT_LIST_EXISTING,
	CT_CREATE,
	CT_FIND,
	CT_BOOT,
	CT_COMMAND,
	CT_PAUSE,
	CT_DESTROY,
	CT_DONE,
};

struct ct {
	uv_loop_t loop;
	struct cfg_cluster *cfg;
	const struct cfg_instance_type *it;
	const char *set_id, *image, *command;
	bool destroy_existing, pause;
	enum ct_step step;
	bool failed;
	int exit_code;

	char k_set_id[320], k_secret[320], k_pid[320], pid[24], secret[41];
	char **tag_k, **tag_v; /* ResourceTags + CloudTestPID: what step 5 checks */
	size_t n_tags;

	struct child *cloudd, *sshp, *sshcmd;
	int ready, want_ready, running;
	char cloudd_path[PATH_MAX], sshp_path[PATH_MAX];
	const char *cloudd_args[16], *ssh_args[16];
	char *public_key;

	/* the test instance, once known */
	char *id, *address, *user, *host_key;
	bool listed;		   /* the last list showed it */
	char *found[CT_MAX_FOUND]; /* the last list: ours (by InstanceSetID) */
	size_t n_found;
	int64_t boot_deadline; /* uv_now() ms */
	bool verified;
	bool create_failed;
	struct child *probe_child; /* sshp or sshcmd */
	const char *probe_command; /* for the log */
	uint64_t cmd_start;

	uv_timer_t timer;
	uv_poll_t stdin_poll;
	bool stdin_polling;
	uv_signal_t sigint, sigterm;
};

/* cloudtest.c: the sequence; each step's end calls it to begin the next. */
void ct_next(struct ct *t);

/* cloudtest_steps.c */
void ct_fail(struct ct *t, const char *msg, const char *err); /* log, mark failed */
void ct_after(struct ct *t, cfg_duration_ns d, uv_timer_cb cb);
void ct_login_info(struct ct *t);	   /* "ssh -p<port> <user>@<host>" */
void ct_list(struct ct *t, bool filtered); /* the answer drives most steps */
void ct_create(struct ct *t);
void ct_probe(struct ct *t);   /* verify, then t->probe_command through t->probe_child */
void ct_destroy(struct ct *t); /* then list until it is gone; never gives up */

/* cloudtest_helpers.c */
int ct_start_children(struct ct *t, const char *argv0);
void ct_start_watch(uv_timer_t *h); /* a helper failing before the test began */
void ct_signal(uv_signal_t *s, int signum);
void ct_finish(struct ct *t); /* stop the helpers; the loop then runs out */

#endif
