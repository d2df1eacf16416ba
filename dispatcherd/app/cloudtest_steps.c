/*
 * cloudtest.c - see cloudtest.h. The steps, log lines and exit codes of spec cloud-drivers.md
 * section 6, as one state machine on a libuv loop:
 *
 *   helpers ready -> list (no filter) -> [destroy ours, wait SyncInterval, list again]
 *   -> create -> find it in a filtered list (or, after a failed create, poll until one of
 *   ours appears) -> check its tags -> verify + boot probe until TimeoutBooting
 *   -> [-command] -> [-pause-before-destroy] -> destroy + list until it is gone -> exit.
 *
 * The reference runs the driver directly; here cloudd does (the same helper, sandbox and
 * user as under the dispatcher). sshd-pool only runs the commands named at its init, so
 * -command gets a second sshd-pool whose BootProbeCommand is that command.
 * Deviation: a DriverParameters.SubnetID list is not walked entry by entry (cloudd's EC2
 * driver fails over between the subnets itself); the test runs once.
 */
#include "cloudtest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "child.h"
#include "cloudc.h"
#include "config.h"
#include "env_secrets.h"
#include "helper_paths.h"
#include "log.h"
#include "proto.h"
#include "secret_fd.h"
#include "sshc.h"
#include "util.h"

#define CT_DEFAULT_SET_ID "zzzzz-zzzzz-zzzzzzcloudtest"
#define CT_CALL_MS	  120000u
#define CT_STOP_GRACE_MS  1500
#define CT_MAX_FOUND	  PROTO_MAX_DESTROY_IDS
#define CT_NOF		  ((const struct log_field[]){ LF_END })

/* The flags (tests/packaging/test_man.py reads this table: each name in CT_FLAG). */
#define CT_FLAG(n) n
static const struct {
	const char *name;
	bool is_bool;
} ct_flags[] = {
	{ CT_FLAG("config"), false },
	{ CT_FLAG("instance-set-id"), false },
	{ CT_FLAG("image-id"), false },
	{ CT_FLAG("instance-type"), false },
	{ CT_FLAG("destroy-existing"), true },
	{ CT_FLAG("command"), false },
	{ CT_FLAG("pause-before-destroy"), true },
	{ CT_FLAG("help"), true },
	{ CT_FLAG("h"), true },
};
#define CT_NFLAGS (sizeof(ct_flags) / sizeof(ct_flags[0]))

struct ct_opts {
	const char *v[CT_NFLAGS]; /* string flags */
	bool b[CT_NFLAGS];	  /* boolean flags */
};

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

static void ct_next(struct ct *t);
static void ct_finish(struct ct *t);

/* ---- small helpers ---- */

static void
ct_fail(struct ct *t, const char *msg, const char *err)
{
	t->failed = true;
	if (err != NULL)
		log_kv_err(LOG_LVL_ERROR, msg, err, LF_STR("Instance", t->id ? t->id : ""));
	else
		log_kv(LOG_LVL_ERROR, msg, LF_STR("Instance", t->id ? t->id : ""));
}

static void
ct_after(struct ct *t, cfg_duration_ns d, uv_timer_cb cb)
{
	uint64_t ms = d > 0 ? (uint64_t)(d / 1000000) : 0;

	uv_timer_start(&t->timer, cb, ms ? ms : 1, 0);
}

static void
ct_set(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? strdup(src) : NULL;
}

static const char *
ct_tag(const struct proto_cloud_tags *tags, const char *key)
{
	for (uint32_t i = 0; i < tags->n; i++)
		if (strcmp(tags->keys[i], key) == 0)
			return tags->values[i];
	return NULL;
}

/* "ssh -p<port> <user>@<host>" once an address is known. */
static void
ct_login_info(struct ct *t)
{
	char host[256], cmd[512];
	const char *port = t->cfg->containers.cloudvms.ssh_port;
	const char *colon = t->address ? strrchr(t->address, ':') : NULL;

	if (t->address == NULL || *t->address == '\0')
		return;
	snprintf(host, sizeof(host), "%s", t->address);
	if (colon != NULL && strchr(t->address, ':') == colon) {
		host[colon - t->address] = '\0';
		port = colon + 1;
	}
	snprintf(cmd, sizeof(cmd), "ssh -p%s %s@%s", port, t->user && *t->user ? t->user : "root",
		 host);
	log_kv(LOG_LVL_INFO, "showing login information", LF_STR("Command", cmd));
}

/* ---- list (steps 2, 4, 6 refresh, 9) ---- */

static void
ct_list_part(void *arg, const struct proto_cloud_inst *insts, size_t n)
{
	struct ct *t = arg;

	for (size_t i = 0; i < n; i++) {
		const struct proto_cloud_inst *in = &insts[i];
		const char *sid = ct_tag(&in->tags, t->k_set_id);

		if (sid == NULL || strcmp(sid, t->set_id) != 0)
			continue;
		if (t->n_found < CT_MAX_FOUND)
			t->found[t->n_found++] = strdup(in->id);
		/* Our instance (or, after a failed create, the one that appeared). */
		if ((t->id != NULL && strcmp(in->id, t->id) == 0) ||
		    (t->id == NULL && t->step == CT_FIND)) {
			ct_set(&t->id, in->id);
			ct_set(&t->address, in->address);
			ct_set(&t->user, in->remote_user);
			ct_set(&t->host_key, in->host_key[0] ? in->host_key : NULL);
			t->listed = true;
			if (t->step == CT_FIND) {
				/* step 5: every expected tag, same value */
				bool all = true;
				for (size_t k = 0; k < t->n_tags; k++) {
					const char *v = ct_tag(&in->tags, t->tag_k[k]);
					if (v == NULL || strcmp(v, t->tag_v[k]) != 0) {
						log_kv(LOG_LVL_ERROR,
						       "tag is missing from test instance",
						       LF_STR("Tag", t->tag_k[k]),
						       LF_STR("Value", t->tag_v[k]));
						all = false;
					}
				}
				if (all)
					log_emit(LOG_LVL_INFO, "all expected tags are present",
						 CT_NOF);
				else
					t->failed = true;
			}
		}
	}
}

static void ct_list_done(void *arg, const struct proto_cloud_err *err);

static void
ct_list(struct ct *t, bool filtered)
{
	char *k[] = { t->k_set_id }, *v[] = { (char *)t->set_id };
	struct proto_cloud_tags filter = { k, v, filtered ? 1 : 0 };

	for (size_t i = 0; i < t->n_found; i++)
		free(t->found[i]);
	t->n_found = 0;
	t->listed = false;
	if (cloudc_list(t->cloudd, &filter, CT_CALL_MS, ct_list_part, ct_list_done, t) != 0) {
		struct proto_cloud_err e = { .status = PROTO_E_RETRY, .text = "cloudd not ready" };
		ct_list_done(t, &e);
	}
}

/* ---- step 9: destroy until gone (never gives up) ---- */

static void ct_destroy(struct ct *t);

static void
ct_destroy_timer(uv_timer_t *h)
{
	ct_destroy(h->data);
}

static void
ct_destroy_done(void *arg, const struct proto_cloud_err *err, size_t n, char *const *ids,
		const struct proto_cloud_err *errs)
{
	struct ct *t = arg;

	(void)ids;
	if (err->status != PROTO_OK || (n > 0 && errs[0].status != PROTO_OK))
		log_kv_err(LOG_LVL_WARN, "destroy failed",
			   err->status != PROTO_OK ? err->text : errs[0].text,
			   LF_STR("Instance", t->id));
	ct_list(t, true);
}

static void
ct_destroy(struct ct *t)
{
	const char *ids[] = { t->id };

	log_kv(LOG_LVL_INFO, "destroying instance", LF_STR("Instance", t->id));
	if (cloudc_destroy(t->cloudd, ids, 1, CT_CALL_MS, ct_destroy_done, t) != 0) {
		/* cloudd restarting: try again shortly */
		ct_after(t, t->cfg->containers.cloudvms.sync_interval, ct_destroy_timer);
	}
}

/* ---- step 2 with -destroy-existing ---- */

static void
ct_relist_timer(uv_timer_t *h)
{
	ct_list(h->data, false);
}

static void
ct_destroy_existing_done(void *arg, const struct proto_cloud_err *err, size_t n, char *const *ids,
			 const struct proto_cloud_err *errs)
{
	struct ct *t = arg;

	(void)n;
	(void)ids;
	(void)errs;
	if (err->status != PROTO_OK)
		log_emit_err(LOG_LVL_WARN, "destroy failed", err->text, CT_NOF);
	ct_after(t, t->cfg->containers.cloudvms.sync_interval, ct_relist_timer);
}

/* ---- step 6 and 7: verify, then the probe command ---- */

static void ct_probe(struct ct *t);

static void
ct_probe_timer(uv_timer_t *h)
{
	struct ct *t = h->data;

	/* refresh the instance: its address may have changed */
	ct_list(t, true);
}

static void
ct_probe_failed(struct ct *t, const char *why)
{
	if (t->step == CT_COMMAND) {
		ct_fail(t, "shell command failed", why);
		ct_next(t);
		return;
	}
	log_kv_err(LOG_LVL_INFO, "boot probe failed", why, LF_STR("Instance", t->id));
	if ((int64_t)uv_now(&t->loop) >= t->boot_deadline) {
		ct_fail(t, "timed out", "boot probe did not succeed before TimeoutBooting");
		ct_next(t);
		return;
	}
	t->verified = false;
	ct_after(t, t->cfg->containers.cloudvms.probe_interval, ct_probe_timer);
}

static void
ct_cmd_done(const struct sshc_result *r, void *arg)
{
	struct ct *t = arg;
	double secs = (double)(uv_now(&t->loop) - t->cmd_start) / 1000.0;
	bool ok = r->status == PROTO_OK && r->outcome == PROTO_SSH_OK;
	char out[PROTO_SSH_MAX_OUT + 1], err[PROTO_SSH_MAX_ERR + 1];

	snprintf(out, sizeof(out), "%.*s", (int)r->out_len, r->out ? (const char *)r->out : "");
	snprintf(err, sizeof(err), "%.*s", (int)r->err_len, r->err ? (const char *)r->err : "");
	log_kv(ok ? LOG_LVL_INFO : LOG_LVL_WARN,
	       ok ? "remote command succeeded" : "remote command failed",
	       LF_STR("Command", t->probe_command), LF_STR("stdout", out), LF_STR("stderr", err),
	       LF_DBL("Duration", secs), LF_INT("ExitStatus", r->exit_status),
	       LF_STR("error", r->message ? r->message : ""));
	if (!ok) {
		ct_probe_failed(t, r->message && *r->message ? r->message : "non-zero exit");
		return;
	}
	if (t->step == CT_BOOT)
		log_kv(LOG_LVL_INFO, "boot probe succeeded", LF_STR("Instance", t->id));
	ct_next(t);
}

static void
ct_run_probe(struct ct *t)
{
	t->cmd_start = uv_now(&t->loop);
	log_kv(LOG_LVL_INFO, "executing remote command", LF_STR("Command", t->probe_command),
	       LF_STR("Instance", t->id));
	if (sshc_boot_probe(t->probe_child, t->id, 0, ct_cmd_done, t) != 0)
		ct_probe_failed(t, "sshd-pool not ready");
}

static void
ct_verify_done(const struct sshc_result *r, void *arg)
{
	struct ct *t = arg;

	if (r->status != PROTO_OK || r->outcome != PROTO_SSH_OK) {
		ct_probe_failed(t, r->message && *r->message ? r->message : "SSH verify failed");
		return;
	}
	t->verified = true;
	ct_run_probe(t);
}

static void
ct_probe(struct ct *t)
{
	char host[256], *vouched = NULL;
	const char *colon = t->address ? strrchr(t->address, ':') : NULL;
	uint16_t port = (uint16_t)atoi(t->cfg->containers.cloudvms.ssh_port);
	int r;

	if (t->address == NULL || *t->address == '\0') {
		ct_probe_failed(t, "instance has no address");
		return;
	}
	snprintf(host, sizeof(host), "%s", t->address);
	if (colon != NULL && strchr(t->address, ':') == colon) {
		host[colon - t->address] = '\0';
		port = (uint16_t)atoi(colon + 1);
	}
	struct sshc_worker w = { .instance_id = t->id,
				 .address = host,
				 .port = port ? port : 22,
				 .user = t->user && *t->user ? t->user : "root" };
	/* As the pool does (5.13): a driver that knows the host key vouches for it (loopback);
	 * otherwise the instance secret is checked. */
	if (t->host_key != NULL && asprintf(&vouched, "host-key %s", t->host_key) < 0)
		vouched = NULL;
	const char *sec = vouched ? vouched : t->secret;
	r = sshc_verify(t->probe_child, &w, (const uint8_t *)sec, strlen(sec), 0, ct_verify_done,
			t);
	free(vouched);
	if (r != 0)
		ct_probe_failed(t, "sshd-pool not ready");
}

/* ---- step 3, 4: create ---- */

static void
ct_create_done(void *arg, const struct proto_cloud_err *err, const struct proto_cloud_inst *in)
{
	struct ct *t = arg;

	if (err->status != PROTO_OK) {
		ct_fail(t, "error creating test instance", err->text);
		t->create_failed = true;
		/* the instance may exist anyway: poll until ours appears or the deadline */
		t->step = CT_FIND;
		ct_list(t, true);
		return;
	}
	ct_set(&t->id, in->id);
	ct_set(&t->address, in->address);
	ct_set(&t->user, in->remote_user);
	ct_set(&t->host_key, in->host_key[0] ? in->host_key : NULL);
	log_kv(LOG_LVL_INFO, "created instance", LF_STR("Instance", t->id));
	ct_login_info(t);
	t->step = CT_FIND;
	ct_list(t, true);
}

static void
ct_create(struct ct *t)
{
	const struct cfg_cloudvms *vm = &t->cfg->containers.cloudvms;
	const char *init = vm->instance_init_command ? vm->instance_init_command : "";
	size_t n = t->n_tags + 2, len = strlen(init) + 128;
	char **k = calloc(n, sizeof(char *)), **v = calloc(n, sizeof(char *));
	char *cmd = malloc(len), *tagstr = NULL;
	cJSON *tj = cJSON_CreateObject();
	int r = -ENOMEM;

	if (k != NULL && v != NULL && cmd != NULL && tj != NULL) {
		for (size_t i = 0; i < t->n_tags; i++) {
			k[i] = t->tag_k[i];
			v[i] = t->tag_v[i];
			cJSON_AddStringToObject(tj, k[i], v[i]);
		}
		k[t->n_tags] = t->k_set_id;
		v[t->n_tags] = (char *)t->set_id;
		k[t->n_tags + 1] = t->k_secret;
		v[t->n_tags + 1] = t->secret;
		cJSON_AddStringToObject(tj, t->k_set_id, t->set_id);
		tagstr = cJSON_PrintUnformatted(tj);
		/* 1.3: the secret file first, then InstanceInitCommand */
		snprintf(cmd, len,
			 "umask 0177 && echo -n \"%s\" >/var/run/arvados-instance-secret\n%s",
			 t->secret, init);
		struct proto_cloud_create m = {
			.itype = { .name = t->it->name,
				   .provider_type = t->it->provider_type,
				   .price = t->it->price,
				   .preemptible = t->it->preemptible,
				   .added_scratch = t->it->added_scratch },
			.image = (char *)t->image,
			.init_command = cmd,
			.public_key = vm->deploy_public_key && t->public_key ? t->public_key : "",
			.key = "",
			.tags = { k, v, (uint32_t)n },
		};
		log_kv(LOG_LVL_INFO, "creating instance", LF_STR("InstanceType", t->it->name),
		       LF_STR("ProviderType", t->it->provider_type), LF_STR("ImageID", t->image),
		       LF_STR("Tags", tagstr ? tagstr : ""), LF_STR("InitCommand", init));
		t->boot_deadline = (int64_t)uv_now(&t->loop) + vm->timeout_booting / 1000000;
		r = cloudc_create(t->cloudd, &m, CT_CALL_MS, ct_create_done, t);
	}
	if (cmd != NULL)
		adc_wipe(cmd, strlen(cmd));
	free(cmd);
	free(k);
	free(v);
	free(tagstr);
	cJSON_Delete(tj);
	if (r != 0) {
		ct_fail(t, "error creating test instance", strerror(-r));
		t->step = CT_DONE;
		ct_finish(t);
	}
}

/* ---- the list answer drives most steps ---- */

static void
ct_find_timer(uv_timer_t *h)
{
	ct_list(h->data, true);
}

static void
ct_destroy_wait_timer(uv_timer_t *h)
{
	ct_destroy(h->data);
}

static void
ct_list_done(void *arg, const struct proto_cloud_err *err)
{
	struct ct *t = arg;
	const struct cfg_cloudvms *vm = &t->cfg->containers.cloudvms;

	if (err->status != PROTO_OK) {
		log_emit_err(LOG_LVL_WARN, "error getting instance list", err->text, CT_NOF);
		if (t->step == CT_LIST_EXISTING) {
			ct_fail(t, "error getting instance list", err->text);
			t->step = CT_DONE;
			ct_finish(t);
		} else if (t->step == CT_DESTROY) {
			ct_list(t, true); /* retried at once, as the reference */
		} else {
			ct_after(t, vm->sync_interval, ct_find_timer);
		}
		return;
	}
	switch (t->step) {
	case CT_LIST_EXISTING:
		log_kv(LOG_LVL_INFO, "got instance list", LF_INT("N", (int64_t)t->n_found));
		if (t->n_found == 0) {
			ct_next(t);
		} else if (!t->destroy_existing) {
			ct_fail(t,
				"cannot continue with existing instances -- clean up manually, use "
				"-destroy-existing=true, or choose a different -instance-set-id",
				NULL);
			t->step = CT_DONE;
			ct_finish(t);
		} else {
			log_kv(LOG_LVL_INFO, "destroying existing instances",
			       LF_INT("N", (int64_t)t->n_found));
			if (cloudc_destroy(t->cloudd, (const char *const *)t->found, t->n_found,
					   CT_CALL_MS, ct_destroy_existing_done, t) != 0)
				ct_after(t, vm->sync_interval, ct_relist_timer);
		}
		return;
	case CT_FIND:
		if (t->listed) {
			if (t->create_failed)
				log_kv(LOG_LVL_INFO, "new instance appeared",
				       LF_STR("Instance", t->id));
			ct_next(t);
		} else if (t->id != NULL) {
			ct_fail(t, "cloud/driver Create succeeded, but instance is not in list",
				NULL);
			ct_next(t);
		} else if ((int64_t)uv_now(&t->loop) >= t->boot_deadline) {
			ct_fail(t, "timed out", "no instance with our InstanceSetID appeared");
			t->step = CT_DONE;
			ct_finish(t);
		} else {
			ct_after(t, vm->sync_interval, ct_find_timer);
		}
		return;
	case CT_BOOT:
	case CT_COMMAND:
		/* the refresh after a failed probe: try again */
		ct_probe(t);
		return;
	case CT_DESTROY:
		if (!t->listed) {
			log_kv(LOG_LVL_INFO, "instance no longer appears in list",
			       LF_STR("Instance", t->id));
			t->step = CT_DONE;
			ct_finish(t);
		} else {
			ct_after(t, vm->sync_interval, ct_destroy_wait_timer);
		}
		return;
	default:
		return;
	}
}

/* ---- step 8 ---- */

static void
ct_stdin_cb(uv_poll_t *h, int status, int events)
{
	struct ct *t = h->data;
	char buf[256];
	ssize_t n;

	(void)status;
	(void)events;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n > 0 && memchr(buf, '\n', (size_t)n) == NULL)
		return;
	uv_poll_stop(h);
	ct_next(t);
}

/* ---- the sequence ---- */

static void
ct_next(struct ct *t)
{
	switch (t->step) {
	case CT_START:
		t->step = CT_LIST_EXISTING;
		ct_list(t, false);
		return;
	case CT_LIST_EXISTING:
		t->step = CT_CREATE;
		ct_create(t);
		return;
	case CT_CREATE:
	case CT_FIND:
		t->step = CT_BOOT;
		t->probe_child = t->sshp;
		t->probe_command = t->cfg->containers.cloudvms.boot_probe_command;
		ct_probe(t);
		return;
	case CT_BOOT:
		t->step = CT_COMMAND;
		if (t->command != NULL && *t->command != '\0') {
			t->probe_child = t->sshcmd;
			t->probe_command = t->command;
			ct_probe(t);
			return;
		}
		/* fall through */
	case CT_COMMAND:
		t->step = CT_PAUSE;
		if (t->pause) {
			ct_login_info(t);
			fputs("Press Enter to continue: ", stderr);
			fflush(stderr);
			if (uv_poll_init(&t->loop, &t->stdin_poll, STDIN_FILENO) == 0) {
				t->stdin_polling = true;
				t->stdin_poll.data = t;
				uv_poll_start(&t->stdin_poll, UV_READABLE | UV_DISCONNECT,
					      ct_stdin_cb);
				return;
			}
		}
		/* fall through */
	case CT_PAUSE:
		t->step = CT_DESTROY;
		if (t->id != NULL) {
			ct_destroy(t);
			return;
		}
		t->step = CT_DONE;
		ct_finish(t);
		return;
	default:
		return;
	}
}

/* ---- helpers: start, ready, stop ---- */

static void
ct_child_stopped(void *arg)
{
	struct ct *t = arg;

	if (--t->running == 0) {
		uv_close((uv_handle_t *)&t->timer, NULL);
		uv_close((uv_handle_t *)&t->sigint, NULL);
		uv_close((uv_handle_t *)&t->sigterm, NULL);
		if (t->stdin_polling)
			uv_close((uv_handle_t *)&t->stdin_poll, NULL);
	}
}

static void
ct_finish(struct ct *t)
{
	if (t->running == 0 || t->cloudd == NULL)
		return;
	t->exit_code = t->failed ? 1 : 0;
	log_kv(LOG_LVL_INFO, "exiting", LF_BOOL("Failed", t->failed));
	uv_timer_stop(&t->timer);
	child_stop(t->cloudd, CT_STOP_GRACE_MS, ct_child_stopped, t);
	child_stop(t->sshp, CT_STOP_GRACE_MS, ct_child_stopped, t);
	if (t->sshcmd != NULL)
		child_stop(t->sshcmd, CT_STOP_GRACE_MS, ct_child_stopped, t);
	t->cloudd = t->sshp = t->sshcmd = NULL;
}

static void
ct_signal(uv_signal_t *s, int signum)
{
	struct ct *t = s->data;

	log_kv(LOG_LVL_WARN, "interrupted", LF_STR("Signal", strsignal(signum)));
	t->failed = true;
	/* an instance is known: still destroy it (step 9 is deferred in the reference) */
	if (t->id != NULL && t->step != CT_DESTROY && t->step != CT_DONE) {
		uv_timer_stop(&t->timer);
		t->step = CT_DESTROY;
		ct_destroy(t);
		return;
	}
	ct_finish(t);
}

static void
ct_child_ready(struct child *c, void *arg)
{
	struct ct *t = arg;

	(void)c;
	if (t->step == CT_START && ++t->ready == t->want_ready) {
		uv_timer_stop(&t->timer);
		ct_next(t);
	}
}

/* A helper that fails before the test has begun (bad credentials, another build, a missing
 * user) is restarted by child.c with a back-off: fail at once instead, as the reference fails
 * to initialise its driver. Checked every 200 ms until both are ready. */
static void
ct_start_watch(uv_timer_t *h)
{
	struct ct *t = h->data;
	struct child *c[] = { t->cloudd, t->sshp, t->sshcmd };

	for (size_t i = 0; t->step == CT_START && i < 3; i++) {
		if (c[i] == NULL || child_starts(c[i]) <= 1)
			continue;
		char why[128];
		snprintf(why, sizeof(why), "%s could not be started (see its log above)",
			 child_name(c[i]));
		log_emit_err(LOG_LVL_ERROR, "error initializing driver", why, CT_NOF);
		t->failed = true;
		t->step = CT_DONE;
		ct_finish(t);
	}
}

static int
ct_cloudd_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct ct *t = arg;
	const struct cfg_cloudvms *vm = &t->cfg->containers.cloudvms;
	struct proto_cloud_init m = {
		.driver = vm->driver,
		.driver_params_json = "",
		.instance_set_id = (char *)t->set_id,
		.tag_key_prefix = vm->tag_key_prefix,
		.shared_tag_keys = vm->resource_tag_keys,
		.shared_tag_values = vm->resource_tag_values,
		.n_shared_tags = (uint32_t)vm->n_resource_tags,
	};

	(void)c;
	return proto_cloud_init_encode(w, 0, 0, &m);
}

static int
ct_status_check(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct proto_status s;
	int r;

	(void)c;
	(void)arg;
	if (proto_status_decode(m, &s) != 0) {
		snprintf(why, len, "malformed init answer");
		return -1;
	}
	r = s.status == PROTO_OK ? 0 : -1;
	if (r != 0)
		snprintf(why, len, "error initializing driver: %s", s.message);
	proto_status_free(&s);
	return r;
}

static int
ct_ssh_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct ct *t = arg;
	const struct cfg_cloudvms *vm = &t->cfg->containers.cloudvms;
	struct proto_ssh_init m = {
		.boot_probe_command = c == t->sshcmd ? (char *)t->command : vm->boot_probe_command,
		.ssh_port = vm->ssh_port,
		.cluster_id = t->cfg->cluster_id,
		.connect_timeout_ms = 30000,
		.command_timeout_ms = 300000,
		.crunch_run_command = t->cfg->containers.crunch_run_command,
		.deploy_dir = vm->deploy_runner_directory,
		.runner_md5 = "",
	};

	return proto_ssh_init_encode(w, 0, 0, &m, true);
}

static int
ct_ssh_check(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct ct *t = arg;
	struct proto_ssh_init_ans a;

	if (proto_ssh_init_ans_decode(m, &a) != 0) {
		snprintf(why, len, "malformed init answer");
		return -1;
	}
	if (a.status != PROTO_OK) {
		snprintf(why, len, "error loading Containers.DispatchPrivateKey: %s", a.message);
		proto_ssh_init_ans_free(&a);
		return -1;
	}
	if (c == t->sshp) {
		free(t->public_key);
		t->public_key = a.public_key;
		a.public_key = NULL;
	}
	proto_ssh_init_ans_free(&a);
	return 0;
}

/* cloudd's secret: {"DriverParameters": ..., "Env": {AWS_*}}, as the dispatcher sends it. */
static int
ct_cloud_secret_fd(const struct cfg_secrets *s)
{
	static const char pre[] = "{\"DriverParameters\":", mid[] = ",\"Env\":";
	const char *dp = s->driver_parameters_json ? s->driver_parameters_json : "{}";
	size_t dplen = s->driver_parameters_json ? s->driver_parameters_len : 2, len;
	cJSON *env = NULL;
	char *envs = NULL, *blob = NULL;
	int fd = env_secrets_take(&env);

	if (fd == 0 && (envs = cJSON_PrintUnformatted(env)) == NULL)
		fd = -ENOMEM;
	env_secrets_free(env);
	if (fd == 0) {
		len = strlen(pre) + dplen + strlen(mid) + strlen(envs) + 2;
		if ((blob = malloc(len)) == NULL)
			fd = -ENOMEM;
		else {
			snprintf(blob, len, "%s%.*s%s%s}", pre, (int)dplen, dp, mid, envs);
			fd = secret_memfd_create("driver-parameters", blob, strlen(blob));
			adc_wipe(blob, len);
		}
	}
	free(blob);
	if (envs != NULL) {
		adc_wipe(envs, strlen(envs));
		free(envs);
	}
	return fd;
}

static int
ct_key_fd(const struct cfg_secrets *s)
{
	int fd;

	if (s->dispatch_private_key_path != NULL) {
		fd = open(s->dispatch_private_key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -errno : fd;
	}
	if (s->dispatch_private_key != NULL && s->dispatch_private_key_len > 0)
		return secret_memfd_create("dispatch-private-key", s->dispatch_private_key,
					   s->dispatch_private_key_len);
	return -ENOKEY;
}

static void
ct_child_args(struct ct *t, const char **a, bool cloud)
{
	size_t n = 0;

	if (cloud) {
		a[n++] = "-driver";
		a[n++] = t->cfg->containers.cloudvms.driver;
	}
	a[n++] = "-cluster-id";
	a[n++] = t->cfg->cluster_id;
	a[n++] = "-log-format";
	a[n++] = "text";
	a[n++] = "-log-level";
	a[n++] = "info";
	a[n] = NULL;
}

static int
ct_start_children(struct ct *t, const char *argv0)
{
	struct cfg_secrets *s = &t->cfg->secrets;
	int cloud_fd, key_fd, key_fd2 = -1;

	if (helper_path(NULL, argv0, "cloudd", t->cloudd_path, sizeof(t->cloudd_path)) != 0 ||
	    helper_path(NULL, argv0, "sshd-pool", t->sshp_path, sizeof(t->sshp_path)) != 0)
		return -ENOENT;
	if ((key_fd = ct_key_fd(s)) < 0) {
		log_emit_err(LOG_LVL_ERROR, "error loading Containers.DispatchPrivateKey",
			     key_fd == -ENOKEY ? "no key configured" : strerror(-key_fd), CT_NOF);
		return key_fd;
	}
	if (t->command != NULL && *t->command != '\0' &&
	    (key_fd2 = fcntl(key_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		close(key_fd);
		return -errno;
	}
	if ((cloud_fd = ct_cloud_secret_fd(s)) < 0) {
		close(key_fd);
		if (key_fd2 >= 0)
			close(key_fd2);
		return cloud_fd;
	}
	cfg_secrets_wipe(s);
	ct_child_args(t, t->cloudd_args, true);
	ct_child_args(t, t->ssh_args, false);
	struct child_spec cs = { .name = "cloudd",
				 .role = PROTO_ROLE_CLOUDD,
				 .path = t->cloudd_path,
				 .args = t->cloudd_args,
				 .secret_fd = cloud_fd,
				 .build_init = ct_cloudd_init,
				 .check_init = ct_status_check,
				 .on_ready = ct_child_ready,
				 .arg = t };
	struct child_spec ss = { .name = "sshd-pool",
				 .role = PROTO_ROLE_SSHD_POOL,
				 .path = t->sshp_path,
				 .args = t->ssh_args,
				 .secret_fd = key_fd,
				 .build_init = ct_ssh_init,
				 .check_init = ct_ssh_check,
				 .on_ready = ct_child_ready,
				 .arg = t };
	t->want_ready = 2;
	if ((t->cloudd = child_new(&t->loop, &cs)) == NULL ||
	    (t->sshp = child_new(&t->loop, &ss)) == NULL)
		return -ENOMEM;
	t->running = 2;
	if (key_fd2 >= 0) {
		ss.secret_fd = key_fd2;
		t->want_ready = 3;
		/* the init callbacks tell the two apart by pointer; they run later */
		if ((t->sshcmd = child_new(&t->loop, &ss)) == NULL)
			return -ENOMEM;
		t->running = 3;
	}
	return 0;
}

/* ---- configuration, flags ---- */

static int
ct_parse(int argc, char **argv, struct ct_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			fprintf(stderr, "unexpected argument \"%s\"\n", a);
			return 2;
		}
		a += a[1] == '-' ? 2 : 1;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a), f;
		for (f = 0; f < CT_NFLAGS; f++)
			if (strlen(ct_flags[f].name) == len &&
			    strncmp(ct_flags[f].name, a, len) == 0)
				break;
		if (f == CT_NFLAGS) {
			fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)len, a);
			return 2;
		}
		if (ct_flags[f].is_bool) {
			const char *v = eq ? eq + 1 : "true";
			if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "t") == 0)
				o->b[f] = true;
			else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
				 strcmp(v, "f") == 0)
				o->b[f] = false;
			else {
				fprintf(stderr, "invalid boolean value \"%s\" for -%s\n", v,
					ct_flags[f].name);
				return 2;
			}
			continue;
		}
		if (eq != NULL)
			o->v[f] = eq + 1;
		else if (i + 1 < argc)
			o->v[f] = argv[++i];
		else {
			fprintf(stderr, "flag needs an argument: -%s\n", ct_flags[f].name);
			return 2;
		}
	}
	return 0;
}

static size_t
ct_flag(const char *name)
{
	for (size_t f = 0; f < CT_NFLAGS; f++)
		if (strcmp(ct_flags[f].name, name) == 0)
			return f;
	return 0;
}

static void
ct_usage(void)
{
	fputs("Usage: arvados-dispatch-cloud cloudtest [flags]\n"
	      "  -config file                config file (default $ARVADOS_CONFIG, else "
	      "/etc/arvados/config.yml)\n"
	      "  -instance-set-id value      InstanceSetID tag value (default \"" CT_DEFAULT_SET_ID
	      "\")\n"
	      "  -image-id string            image ID (default: CloudVMs.ImageID)\n"
	      "  -instance-type string       instance type (default: the cheapest)\n"
	      "  -destroy-existing           destroy instances with our InstanceSetID first\n"
	      "  -command string             shell command to run on the instance after boot\n"
	      "  -pause-before-destroy       wait for Enter before destroying the instance\n",
	      stderr);
}

/* The named type, else the cheapest (ties: the first in the config). */
static const struct cfg_instance_type *
ct_pick_type(const struct cfg_cluster *c, const char *name)
{
	const struct cfg_instance_type *best = NULL;

	for (size_t i = 0; i < c->n_instance_types; i++) {
		const struct cfg_instance_type *it = &c->instance_types[i];
		if (name != NULL && *name != '\0') {
			if (strcmp(it->name, name) == 0)
				return it;
		} else if (best == NULL || it->price < best->price) {
			best = it;
		}
	}
	return best;
}

static int
ct_setup(struct ct *t, const struct ct_opts *o)
{
	const struct cfg_cloudvms *vm = &t->cfg->containers.cloudvms;
	const char *p = vm->tag_key_prefix ? vm->tag_key_prefix : "";
	const char *itype = o->v[ct_flag("instance-type")];
	unsigned char rnd[20];

	if (t->cfg->n_instance_types == 0) {
		log_emit_err(LOG_LVL_ERROR, "fatal", "no instance types are configured", CT_NOF);
		return -1;
	}
	if ((t->it = ct_pick_type(t->cfg, itype)) == NULL) {
		char why[512];
		snprintf(why, sizeof(why), "requested instance type \"%s\" is not configured",
			 itype);
		log_emit_err(LOG_LVL_ERROR, "fatal", why, CT_NOF);
		return -1;
	}
	if (strcmp(vm->driver, "ec2") != 0 && strcmp(vm->driver, "azure") != 0 &&
	    strcmp(vm->driver, "loopback") != 0) {
		char why[512];
		snprintf(why, sizeof(why), "unsupported cloud driver \"%s\"", vm->driver);
		log_emit_err(LOG_LVL_ERROR, "fatal", why, CT_NOF);
		return -1;
	}
	t->set_id = o->v[ct_flag("instance-set-id")] ? o->v[ct_flag("instance-set-id")]
						     : CT_DEFAULT_SET_ID;
	t->image = o->v[ct_flag("image-id")] && *o->v[ct_flag("image-id")]
			   ? o->v[ct_flag("image-id")]
			   : (vm->image_id ? vm->image_id : "");
	t->command = o->v[ct_flag("command")];
	t->destroy_existing = o->b[ct_flag("destroy-existing")];
	t->pause = o->b[ct_flag("pause-before-destroy")];
	snprintf(t->k_set_id, sizeof(t->k_set_id), "%sInstanceSetID", p);
	snprintf(t->k_secret, sizeof(t->k_secret), "%sInstanceSecret", p);
	snprintf(t->k_pid, sizeof(t->k_pid), "%sCloudTestPID", p);
	snprintf(t->pid, sizeof(t->pid), "%d", (int)getpid());
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(t->secret + 2 * i, 3, "%02x", rnd[i]);
	t->n_tags = vm->n_resource_tags + 1;
	t->tag_k = calloc(t->n_tags, sizeof(char *));
	t->tag_v = calloc(t->n_tags, sizeof(char *));
	if (t->tag_k == NULL || t->tag_v == NULL)
		return -1;
	for (size_t i = 0; i < vm->n_resource_tags; i++) {
		t->tag_k[i] = vm->resource_tag_keys[i];
		t->tag_v[i] = vm->resource_tag_values[i];
	}
	t->tag_k[vm->n_resource_tags] = t->k_pid;
	t->tag_v[vm->n_resource_tags] = t->pid;
	return 0;
}

static void
ct_free(struct ct *t)
{
	for (size_t i = 0; i < t->n_found; i++)
		free(t->found[i]);
	free(t->tag_k);
	free(t->tag_v);
	free(t->id);
	free(t->address);
	free(t->user);
	free(t->host_key);
	free(t->public_key);
	adc_wipe(t->secret, sizeof(t->secret));
}

int
cloudtest_main(int argc, char **argv, const char *argv0)
{
	struct ct_opts o = { 0 };
	struct cfg_diags diags = { 0 };
	struct ct t = { .exit_code = 1 };
	int r;

	if ((r = ct_parse(argc, argv, &o)) != 0) {
		ct_usage();
		return r;
	}
	if (o.b[ct_flag("help")] || o.b[ct_flag("h")]) {
		ct_usage();
		return 0;
	}
	log_init("arvados-dispatch-cloud", LOG_FMT_TEXT, LOG_LVL_INFO);
	t.cfg = cfg_load(o.v[ct_flag("config")], &diags);
	for (size_t i = 0; i < diags.n; i++) {
		char *s = cfg_diag_format(&diags.v[i]);
		fprintf(stderr, "%s\n", s ? s : diags.v[i].message);
		free(s);
	}
	if (t.cfg == NULL || diags.nerrors > 0) {
		log_emit_err(LOG_LVL_ERROR, "fatal", "error loading config", CT_NOF);
		cfg_diags_free(&diags);
		cfg_free(t.cfg);
		return 1;
	}
	cfg_diags_free(&diags);
	log_set_cluster_id(t.cfg->cluster_id);
	signal(SIGPIPE, SIG_IGN);
	if (ct_setup(&t, &o) != 0) {
		ct_free(&t);
		cfg_free(t.cfg);
		return 1;
	}
	uv_loop_init(&t.loop);
	uv_timer_init(&t.loop, &t.timer);
	t.timer.data = &t;
	uv_signal_init(&t.loop, &t.sigint);
	uv_signal_init(&t.loop, &t.sigterm);
	t.sigint.data = t.sigterm.data = &t;
	uv_signal_start(&t.sigint, ct_signal, SIGINT);
	uv_signal_start(&t.sigterm, ct_signal, SIGTERM);
	uv_timer_start(&t.timer, ct_start_watch, 200, 200);
	if ((r = ct_start_children(&t, argv0)) != 0) {
		log_emit_err(LOG_LVL_ERROR, "fatal", strerror(-r), CT_NOF);
		t.failed = true;
		if (t.running > 0)
			ct_finish(&t);
		else {
			uv_close((uv_handle_t *)&t.timer, NULL);
			uv_close((uv_handle_t *)&t.sigint, NULL);
			uv_close((uv_handle_t *)&t.sigterm, NULL);
		}
	}
	uv_run(&t.loop, UV_RUN_DEFAULT);
	uv_loop_close(&t.loop);
	r = t.failed ? 1 : 0;
	ct_free(&t);
	cfg_free(t.cfg);
	return r;
}
