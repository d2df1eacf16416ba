/*
 * port_cloud_cache.c - what the cloud port learns from cloudd outside the pool's calls:
 * the quota group of every configured type (the pool asks for it synchronously, cloudc's
 * CLOUD_QGROUP is asynchronous: spec 5.5 capacity holds scoped to a group need the answer
 * at once), and the driver's per-subnet counters behind the EC2 metrics of spec 8.
 */
#include "port_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudc.h"
#include "log.h"
#include "metrics_catalog.h"

#define PORT_CLOUD_CACHE_TIMEOUT_MS 30000u

/* ---- quota groups ---- */

struct port_cloud_qg_req {
	struct port_cloud *pc;
	size_t type; /* index into cluster->instance_types */
};

static void
port_cloud_qg_done(void *arg, const struct proto_cloud_err *err, const char *group)
{
	struct port_cloud_qg_req *q = arg;
	struct port_cloud *pc = q->pc;
	char *g;

	if (err->status != PROTO_OK || group == NULL) {
		/* PROTO_E_RETRY: cloudd restarted; its next ready asks again */
		if (err->status != PROTO_E_RETRY)
			log_kv_err(
				LOG_LVL_WARN, "cannot get the quota group of an instance type",
				err->text != NULL ? err->text : "",
				LF_STR("InstanceType", pc->cluster->instance_types[q->type].name));
	} else if (pc->qgroups != NULL && (g = strdup(group)) != NULL) {
		free(pc->qgroups[q->type]);
		pc->qgroups[q->type] = g;
	}
	free(q);
}

static void
port_cloud_qg_fetch(struct port_cloud *pc)
{
	const struct cfg_cluster *cl = pc->cluster;

	if (pc->qgroups == NULL && cl->n_instance_types > 0 &&
	    (pc->qgroups = calloc(cl->n_instance_types, sizeof(char *))) == NULL)
		return;
	for (size_t i = 0; i < cl->n_instance_types; i++) {
		const struct cfg_instance_type *it = &cl->instance_types[i];
		struct proto_cloud_itype t = {
			.name = it->name,
			.provider_type = it->provider_type,
			.price = it->price,
			.preemptible = it->preemptible,
			.added_scratch = it->added_scratch,
		};
		struct port_cloud_qg_req *q = malloc(sizeof(*q));
		int r;

		if (q == NULL)
			return;
		*q = (struct port_cloud_qg_req){ pc, i };
		r = cloudc_quota_group(*pc->cloudd, &t, PORT_CLOUD_CACHE_TIMEOUT_MS,
				       port_cloud_qg_done, q);
		if (r != 0) {
			free(q);
			if (r == -EAGAIN)
				return; /* cloudd went away again; its next ready */
		}
	}
}

/* The pool's synchronous lookup: the group of a configured type with this provider type
 * and preemptibility, "" while cloudd has not answered (a group-wide capacity error then
 * holds every type, as with a driver that has no groups). */
const char *
port_cloud_qgroup_lookup(const struct port_cloud *pc, const char *provider_type, bool preemptible)
{
	const struct cfg_cluster *cl = pc->cluster;

	if (pc->qgroups == NULL || provider_type == NULL)
		return "";
	for (size_t i = 0; i < cl->n_instance_types; i++) {
		const struct cfg_instance_type *it = &cl->instance_types[i];

		if (pc->qgroups[i] != NULL && it->preemptible == preemptible &&
		    it->provider_type != NULL && strcmp(it->provider_type, provider_type) == 0)
			return pc->qgroups[i];
	}
	return "";
}

/* ---- EC2 counters ---- */

/* 1 when id already has (or may now get) a series; 0 when that would pass
 * PORT_CLOUD_MAX_SUBNETS (or on ENOMEM). */
static int
port_cloud_subnet_known(struct port_cloud *pc, const char *id)
{
	char **v;

	for (size_t i = 0; i < pc->n_subnets; i++)
		if (strcmp(pc->subnets[i], id) == 0)
			return 1;
	if (pc->n_subnets >= PORT_CLOUD_MAX_SUBNETS ||
	    (v = realloc(pc->subnets, (pc->n_subnets + 1) * sizeof(*v))) == NULL)
		return 0;
	pc->subnets = v;
	if ((v[pc->n_subnets] = strdup(id)) == NULL)
		return 0;
	pc->n_subnets++;
	return 1;
}

/* Every subnet of the answer is known or fits; else cloudd is treated as compromised. */
static bool
port_cloud_subnets_ok(struct port_cloud *pc, const struct proto_cloud_subnet_stats *v, size_t n)
{
	struct proto_chan *ch;

	for (size_t i = 0; i < n; i++) {
		if (port_cloud_subnet_known(pc, v[i].subnet_id))
			continue;
		log_kv(LOG_LVL_ERROR, "cloudd named more subnets than the metrics may hold",
		       LF_INT("Max", PORT_CLOUD_MAX_SUBNETS));
		if (pc->cloudd != NULL && *pc->cloudd != NULL &&
		    (ch = child_chan(*pc->cloudd)) != NULL)
			proto_chan_close(ch, -EPROTO, "too many distinct subnets in CLOUD_STATS");
		return false;
	}
	return true;
}

static void
port_cloud_stats_done(void *arg, const struct proto_cloud_err *err,
		      const struct proto_cloud_subnet_stats *v, size_t n)
{
	struct port_cloud *pc = arg;
	struct metric_family *inst = NULL, *starts = NULL;

	pc->stats_busy = false;
	if (err->status == PROTO_OK && pc->metrics != NULL && !port_cloud_subnets_ok(pc, v, n))
		return;
	if (err->status == PROTO_OK && pc->metrics != NULL) {
		inst = metrics_find(pc->metrics, MET_PREFIX "ec2_instances");
		starts = metrics_find(pc->metrics, MET_PREFIX "ec2_instance_starts_total");
	}
	for (size_t i = 0; inst != NULL && starts != NULL && i < n; i++) {
		const char *sub[1] = { v[i].subnet_id };
		const char *ok[2] = { v[i].subnet_id, "1" }, *fail[2] = { v[i].subnet_id, "0" };

		metrics_set(inst, sub, (double)v[i].instances);
		/* adding 0 pre-creates the series, as the reference pre-initialises them */
		metrics_add(starts, ok, (double)v[i].starts_ok);
		metrics_add(starts, fail, (double)v[i].starts_fail);
	}
	if (pc->stats_again) {
		pc->stats_again = false;
		port_cloud_stats(pc);
	}
}

void
port_cloud_stats(struct port_cloud *pc)
{
	if (pc->metrics == NULL || pc->cloudd == NULL || *pc->cloudd == NULL)
		return;
	if (pc->stats_busy) {
		pc->stats_again = true; /* the counters moved since that request was answered */
		return;
	}
	if (cloudc_stats(*pc->cloudd, PORT_CLOUD_CACHE_TIMEOUT_MS, port_cloud_stats_done, pc) == 0)
		pc->stats_busy = true;
}

void
port_cloud_ready(struct port_cloud *pc)
{
	if (pc->cloudd == NULL || *pc->cloudd == NULL)
		return; /* not wired yet */
	port_cloud_qg_fetch(pc);
	port_cloud_stats(pc);
}

void
port_cloud_free(struct port_cloud *pc)
{
	for (size_t i = 0;
	     pc->qgroups != NULL && pc->cluster != NULL && i < pc->cluster->n_instance_types; i++)
		free(pc->qgroups[i]);
	free(pc->qgroups);
	pc->qgroups = NULL;
	for (size_t i = 0; i < pc->n_hist; i++) {
		free(pc->hist[i].type);
		free(pc->hist[i].az);
		free(pc->hist[i].v);
	}
	free(pc->hist);
	pc->hist = NULL;
	pc->n_hist = 0;
	for (size_t i = 0; i < pc->n_subnets; i++)
		free(pc->subnets[i]);
	free(pc->subnets);
	pc->subnets = NULL;
	pc->n_subnets = 0;
}
