/*
 * cloudtest_steps.c - the cloud and SSH calls of cloudtest's steps (cloudtest.c runs them in
 * order): list (steps 2, 4, 6 refresh, 9), destroy, create (3, 4), verify and the probe
 * command (6, 7). The list answer drives most steps (ct_list_done).
 */
#include "cloudtest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cloudc.h"
#include "sshc.h"
#include "util.h"

/* ---- small helpers ---- */

void
ct_fail(struct ct *t, const char *msg, const char *err)
{
	t->failed = true;
	if (err != NULL)
		log_kv_err(LOG_LVL_ERROR, msg, err, LF_STR("Instance", t->id ? t->id : ""));
	else
		log_kv(LOG_LVL_ERROR, msg, LF_STR("Instance", t->id ? t->id : ""));
}

void
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
void
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

void
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

void
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

void
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

void
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
