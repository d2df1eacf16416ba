/* pool_fake.c - see pool_fake.h. */
#include "pool_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics_catalog.h"
#include "uv_wait.h"

/* ------------------------------------------------------------ deferred answers */

enum fk_kind { FK_CREATE, FK_LIST, FK_DONE, FK_DONE_MANY, FK_SSH };

struct fk_defer {
	uv_timer_t t;
	struct fk *f;
	enum fk_kind kind;
	void *cb, *arg;
	struct pool_cloud_err err;
	char errmsg[128];
	struct fk_inst inst; /* FK_CREATE: a copy */
	bool has_inst;
	struct pool_ssh_result res;
	struct pool_cloud_err errs[FK_MAX_INST]; /* FK_DONE_MANY: one per id */
	size_t n_errs;
	char out[1024];
	char msg[128];
	char errtext[128]; /* the command's stderr */
};

static void
fk_defer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
fk_inst_view(const struct fk_inst *i, struct pool_instance *v, struct pool_tag *tags)
{
	for (size_t k = 0; k < i->n_tags; k++)
		tags[k] = (struct pool_tag){ i->tk[k], i->tv[k] };
	*v = (struct pool_instance){ .id = i->id,
				     .address = i->address,
				     .remote_user = "root",
				     .tags = tags,
				     .n_tags = i->n_tags };
}

static void
fk_list_answer(struct fk_defer *d)
{
	struct pool_instance v[FK_MAX_INST];
	struct pool_tag tags[FK_MAX_INST][FK_MAX_TAGS];
	size_t n = 0;

	if (d->err.kind != POOL_CLOUD_OK) {
		((pool_list_cb)d->cb)(d->arg, &d->err, NULL, 0);
		return;
	}
	for (int i = 0; i < FK_MAX_INST; i++)
		if (d->f->inst[i].used)
			fk_inst_view(&d->f->inst[i], &v[n], tags[n]), n++;
	((pool_list_cb)d->cb)(d->arg, &d->err, v, n);
}

static void
fk_defer_fire(uv_timer_t *t)
{
	struct fk_defer *d = t->data;
	struct pool_instance v;
	struct pool_tag tags[FK_MAX_TAGS];

	d->f->outstanding--;
	d->err.message = d->errmsg;
	d->res.message = d->msg;
	d->res.out = d->out;
	d->res.out_len = strlen(d->out);
	d->res.err = d->errtext;
	d->res.err_len = strlen(d->errtext);
	switch (d->kind) {
	case FK_CREATE:
		d->f->creates_in_flight--;
		if (d->has_inst)
			fk_inst_view(&d->inst, &v, tags);
		((pool_create_cb)d->cb)(d->arg, &d->err, d->has_inst ? &v : NULL);
		break;
	case FK_LIST:
		fk_list_answer(d);
		break;
	case FK_DONE:
		((pool_cloud_done_cb)d->cb)(d->arg, &d->err);
		break;
	case FK_DONE_MANY:
		((pool_destroy_many_cb)d->cb)(d->arg, &d->err, d->n_errs, d->errs);
		break;
	case FK_SSH:
		((pool_ssh_cb)d->cb)(d->arg, &d->res);
		break;
	}
	uv_close((uv_handle_t *)&d->t, fk_defer_closed);
}

static struct fk_defer *
fk_defer(struct fk *f, enum fk_kind kind, void *cb, void *arg)
{
	struct fk_defer *d = calloc(1, sizeof(*d));

	d->f = f;
	d->kind = kind;
	d->cb = cb;
	d->arg = arg;
	d->res.exit_status = 0;
	uv_timer_init(f->loop, &d->t);
	d->t.data = d;
	f->outstanding++;
	f->last_timer = &d->t;
	return d;
}

static void
fk_go(struct fk_defer *d, int ms)
{
	uv_timer_start(&d->t, fk_defer_fire, (uint64_t)ms, 0);
}

static void
fk_op(struct fk *f, char c)
{
	if (f->n_ops < FK_MAX_OPS - 1)
		f->ops[f->n_ops++] = c;
}

/* ------------------------------------------------------------ cloud */

struct fk_inst *
fk_find(struct fk *f, const char *id)
{
	for (int i = 0; i < FK_MAX_INST; i++)
		if (f->inst[i].used && strcmp(f->inst[i].id, id) == 0)
			return &f->inst[i];
	return NULL;
}

const char *
fk_tag(const struct fk_inst *i, const char *key)
{
	for (size_t k = 0; k < i->n_tags; k++)
		if (strcmp(i->tk[k], key) == 0)
			return i->tv[k];
	return NULL;
}

static void
fk_set_tag(struct fk_inst *i, const char *k, const char *v)
{
	for (size_t j = 0; j < i->n_tags; j++) {
		if (strcmp(i->tk[j], k) == 0) {
			snprintf(i->tv[j], sizeof(i->tv[j]), "%s", v);
			return;
		}
	}
	if (i->n_tags < FK_MAX_TAGS) {
		snprintf(i->tk[i->n_tags], sizeof(i->tk[0]), "%s", k);
		snprintf(i->tv[i->n_tags], sizeof(i->tv[0]), "%s", v);
		i->n_tags++;
	}
}

static struct fk_inst *
fk_new_inst(struct fk *f)
{
	for (int i = 0; i < FK_MAX_INST; i++) {
		struct fk_inst *in = &f->inst[i];

		if (in->used)
			continue;
		memset(in, 0, sizeof(*in));
		in->used = true;
		f->next_id++;
		snprintf(in->id, sizeof(in->id), "i-%04d", f->next_id);
		snprintf(in->address, sizeof(in->address), "10.0.0.%d", f->next_id);
		in->boot_ok = f->dflt_boot_ok;
		in->run_ok = in->verify_ok = in->deploy_ok = in->start_ok = in->kill_ok = true;
		return in;
	}
	return NULL;
}

struct fk_inst *
fk_add(struct fk *f, const char *type, const char *idle, const char *secret, const char *set_id)
{
	struct fk_inst *in = fk_new_inst(f);

	fk_set_tag(in, "ArvadosInstanceSetID", set_id);
	fk_set_tag(in, "ArvadosInstanceType", type);
	if (idle)
		fk_set_tag(in, "ArvadosIdleBehavior", idle);
	if (secret)
		fk_set_tag(in, "ArvadosInstanceSecret", secret);
	return in;
}

int
fk_count_live(const struct fk *f)
{
	int n = 0;

	for (int i = 0; i < FK_MAX_INST; i++)
		n += f->inst[i].used;
	return n;
}

static int
fk_create(void *ctx, const struct pool_create_req *req, pool_create_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_defer *d = fk_defer(f, FK_CREATE, (void *)cb, arg);
	size_t off = 0;

	fk_op(f, 'C');
	snprintf(f->last_init, sizeof(f->last_init), "%s", req->init_command);
	f->last_with_key = req->with_public_key;
	for (size_t i = 0; i < req->n_tags && off < sizeof(f->last_create_tags); i++)
		off += (size_t)snprintf(f->last_create_tags + off,
					sizeof(f->last_create_tags) - off, "%s=%s;",
					req->tags[i].key, req->tags[i].value);
	if (++f->creates_in_flight > f->max_creates_in_flight)
		f->max_creates_in_flight = f->creates_in_flight;
	if (f->n_create_errs > 0) {
		d->err = f->create_errs[0];
		snprintf(d->errmsg, sizeof(d->errmsg), "%s", f->create_errs[0].message);
		memmove(&f->create_errs[0], &f->create_errs[1],
			(size_t)--f->n_create_errs * sizeof(f->create_errs[0]));
	} else {
		struct fk_inst *in = fk_new_inst(f);

		for (size_t i = 0; i < req->n_tags; i++)
			fk_set_tag(in, req->tags[i].key, req->tags[i].value);
		d->inst = *in;
		d->has_inst = true;
	}
	fk_go(d, f->create_delay_ms);
	return 0;
}

static int
fk_list(void *ctx, const char *key, const char *value, pool_list_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_defer *d = fk_defer(f, FK_LIST, (void *)cb, arg);

	(void)key;
	(void)value;
	fk_op(f, 'L');
	if (f->list_err.kind != POOL_CLOUD_OK) {
		d->err = f->list_err;
		snprintf(d->errmsg, sizeof(d->errmsg), "%s", f->list_err.message);
		f->list_err.kind = POOL_CLOUD_OK;
	}
	fk_go(d, 0);
	return 0;
}

static int
fk_destroy(void *ctx, const char *id, pool_cloud_done_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_defer *d = fk_defer(f, FK_DONE, (void *)cb, arg);
	struct fk_inst *in = fk_find(f, id);

	fk_op(f, 'D');
	f->destroy_calls++;
	if (f->destroy_max_ids < 1)
		f->destroy_max_ids = 1;
	if (in && ++in->destroys >= (in->destroys_to_vanish ? in->destroys_to_vanish : 1))
		in->used = false;
	fk_go(d, 0);
	return 0;
}

/* As TerminateInstances: every id in one call, an outcome for each. */
static int
fk_destroy_many(void *ctx, const char *const *ids, size_t n, pool_destroy_many_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_defer *d;

	if (n < 2 || n > FK_MAX_INST)
		return -EINVAL;
	d = fk_defer(f, FK_DONE_MANY, (void *)cb, arg);
	fk_op(f, 'D');
	f->destroy_calls++;
	if (f->destroy_max_ids < (int)n)
		f->destroy_max_ids = (int)n;
	d->n_errs = n;
	for (size_t i = 0; i < n; i++) {
		struct fk_inst *in = fk_find(f, ids[i]);

		d->errs[i] = (struct pool_cloud_err){ .kind = POOL_CLOUD_OK, .message = "" };
		if (in && ++in->destroys >= (in->destroys_to_vanish ? in->destroys_to_vanish : 1))
			in->used = false;
	}
	fk_go(d, 0);
	return 0;
}

static int
fk_set_tags(void *ctx, const char *id, const struct pool_tag *tags, size_t n, pool_cloud_done_cb cb,
	    void *arg)
{
	struct fk *f = ctx;
	struct fk_defer *d = fk_defer(f, FK_DONE, (void *)cb, arg);
	struct fk_inst *in = fk_find(f, id);

	fk_op(f, 'T');
	if (in) {
		in->n_tags = 0;
		for (size_t i = 0; i < n; i++)
			fk_set_tag(in, tags[i].key, tags[i].value);
	}
	fk_go(d, 0);
	return 0;
}

static const char *
fk_quota_group(void *ctx, const char *provider_type, bool preemptible)
{
	struct fk *f = ctx;

	/* One group per family letter; preemptible types in their own group. */
	snprintf(f->quota_group, sizeof(f->quota_group), "%c%s", provider_type[0],
		 preemptible ? "-spot" : "");
	return f->quota_group;
}

struct pool_cloud_port
fk_cloud_port(struct fk *f)
{
	return (struct pool_cloud_port){ .ctx = f,
					 .create = fk_create,
					 .list = fk_list,
					 .destroy = fk_destroy,
					 .destroy_many = fk_destroy_many,
					 .set_tags = fk_set_tags,
					 .quota_group = fk_quota_group };
}

/* ------------------------------------------------------------ ssh */

static int
fk_ssh_answer_in(struct fk *f, bool ok, const char *out, int ms, pool_ssh_cb cb, void *arg)
{
	struct fk_defer *d = fk_defer(f, FK_SSH, (void *)cb, arg);

	d->res.outcome = ok ? POOL_SSH_OK : POOL_SSH_EXIT;
	d->res.exit_status = ok ? 0 : 1;
	snprintf(d->out, sizeof(d->out), "%s", ok && out ? out : "");
	snprintf(d->msg, sizeof(d->msg), "%s", ok ? "" : "Process exited with status 1");
	snprintf(d->errtext, sizeof(d->errtext), "%s", ok ? "" : "fake-worker: command failed");
	fk_go(d, ms);
	return 0;
}

static int
fk_ssh_answer(struct fk *f, const char *id, bool ok, const char *out, pool_ssh_cb cb, void *arg)
{
	(void)id;
	return fk_ssh_answer_in(f, ok, out, 0, cb, arg);
}

static int
fk_verify(void *ctx, const char *id, const char *addr, const char *user, const char *secret,
	  uint32_t ms, pool_ssh_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_inst *in = fk_find(f, id);
	const char *want = in ? fk_tag(in, "ArvadosInstanceSecret") : NULL;

	(void)addr;
	(void)user;
	(void)ms;
	return fk_ssh_answer(f, id, in && in->verify_ok && want && strcmp(want, secret) == 0, NULL,
			     cb, arg);
}

static int
fk_boot(void *ctx, const char *id, uint32_t ms, pool_ssh_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_inst *in = fk_find(f, id);

	(void)ms;
	if (in)
		in->boot_probes++;
	return fk_ssh_answer_in(f, in && in->boot_ok, NULL, in ? in->boot_probe_delay_ms : 0, cb,
				arg);
}

static int
fk_deploy(void *ctx, const char *id, uint32_t ms, pool_ssh_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_inst *in = fk_find(f, id);

	(void)ms;
	if (in)
		in->deploys++;
	if (in && in->deploy_refuse < 0)
		return in->deploy_refuse;
	return fk_ssh_answer(f, id, in && in->deploy_ok, NULL, cb, arg);
}

static int
fk_run_probe(void *ctx, const char *id, const char *prices, size_t len, bool spot, uint32_t ms,
	     pool_ssh_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_inst *in = fk_find(f, id);
	char out[1024];

	(void)prices;
	(void)len;
	(void)ms;
	if (in)
		in->run_probes++;
	if (in && in->hang_run_probe) {
		struct fk_defer *d = fk_defer(f, FK_SSH, (void *)cb, arg);

		d->res.outcome = POOL_SSH_TIMEOUT;
		snprintf(d->msg, sizeof(d->msg), "timeout");
		fk_go(d, 60000); /* answered early by fk_stop_pool */
		if (f->n_hung < 8)
			f->hung[f->n_hung++] = &d->t;
		return 0;
	}
	if (in && spot) {
		in->spot_checks++;
		snprintf(out, sizeof(out), "%s\n%s",
			 in->spot_line[0] ? in->spot_line : "adc-spot action  404", in->list_out);
		return fk_ssh_answer(f, id, in->run_ok, out, cb, arg);
	}
	return fk_ssh_answer(f, id, in && in->run_ok, in ? in->list_out : "", cb, arg);
}

static void
fk_list_add(struct fk_inst *in, const char *uuid)
{
	size_t n = strlen(in->list_out);

	snprintf(in->list_out + n, sizeof(in->list_out) - n, "%s\n", uuid);
}

void fk_list_remove(struct fk_inst *in, const char *uuid);

void
fk_list_remove(struct fk_inst *in, const char *uuid)
{
	char *p = strstr(in->list_out, uuid);

	if (p) {
		size_t n = strlen(uuid) + 1;

		memmove(p, p + n, strlen(p + n) + 1);
	}
}

static int
fk_start(void *ctx, const struct pool_ssh_start *s, uint32_t ms, pool_ssh_cb cb, void *arg)
{
	struct fk *f = ctx;
	struct fk_inst *in = fk_find(f, s->instance_id);

	(void)ms;
	if (in) {
		in->starts++;
		snprintf(in->last_payload, sizeof(in->last_payload), "%.*s", (int)s->payload_len,
			 s->payload);
		if (in->start_ok)
			fk_list_add(in, s->uuid);
	}
	int rc = fk_ssh_answer(f, s->instance_id, in && in->start_ok, NULL, cb, arg);

	if (f->start_delay_ms) /* the last defer is this one: slow it down */
		uv_timer_start(f->last_timer, fk_defer_fire, (uint64_t)f->start_delay_ms, 0);
	return rc;
}

static int
fk_kill(void *ctx, const char *id, const char *uuid, int sig, uint32_t ms, pool_ssh_cb cb,
	void *arg)
{
	struct fk *f = ctx;
	struct fk_inst *in = fk_find(f, id);

	(void)ms;
	(void)sig;
	if (in) {
		in->kills++;
		if (in->kill_ok)
			fk_list_remove(in, uuid);
	}
	return fk_ssh_answer(f, id, in && in->kill_ok, NULL, cb, arg);
}

static void
fk_forget(void *ctx, const char *id)
{
	(void)ctx;
	(void)id;
}

struct pool_ssh_port
fk_ssh_port(struct fk *f)
{
	return (struct pool_ssh_port){ .ctx = f,
				       .verify = fk_verify,
				       .boot_probe = fk_boot,
				       .deploy = fk_deploy,
				       .run_probe = fk_run_probe,
				       .start = fk_start,
				       .kill = fk_kill,
				       .forget = fk_forget };
}

void
fk_init(struct fk *f, uv_loop_t *loop)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->dflt_boot_ok = true;
}

/* ------------------------------------------------------------ harness */

static void
fk_changed(void *ctx)
{
	((struct fk_harness *)ctx)->changes++;
}

static int
dflt(int v, int d)
{
	return v ? v : d;
}

int
fk_setup(struct fk_harness *h, const struct fk_params *p)
{
	char yaml[8192];
	struct cfg_diags d = { 0 };

	memset(h, 0, sizeof(*h));
	uv_loop_init(&h->loop);
	fk_init(&h->fk, &h->loop);
	snprintf(yaml, sizeof(yaml),
		 "Clusters:\n"
		 "  zzzzz:\n"
		 "    ManagementToken: mgmttokensecretxyzmgmttokensecretxyz\n"
		 "    SystemRootToken: systemroottokensystemroottokensystemroottoken\n"
		 "    Services:\n"
		 "      Controller:\n"
		 "        ExternalURL: \"https://zzzzz.example.com:8443\"\n"
		 "      DispatchCloud:\n"
		 "        InternalURLs:\n"
		 "          \"http://localhost:9006\": {}\n"
		 "    Containers:\n"
		 "      DispatchPrivateKey: \"-----BEGIN OPENSSH PRIVATE "
		 "KEY-----\\nprivkeysecretmaterial\\n-----END OPENSSH PRIVATE KEY-----\\n\"\n"
		 "      LocalKeepBlobBuffersPerVCPU: 1\n"
		 "      CloudVMs:\n"
		 "        Driver: ec2\n"
		 "        ImageID: ami-123\n"
		 "        InstanceInitCommand: \"echo hello\"\n"
		 "        TimeoutBooting: %dms\n"
		 "        TimeoutProbe: %dms\n"
		 "        TimeoutIdle: %dms\n"
		 "        TimeoutShutdown: %dms\n"
		 "        TimeoutTERM: %dms\n"
		 "        TimeoutSignal: %dms\n"
		 "        TimeoutStaleRunLock: %dms\n"
		 "        ProbeInterval: %dms\n"
		 "        SyncInterval: %dms\n"
		 "        MaxProbesPerSecond: %g\n"
		 "        MaxCloudOpsPerSecond: %g\n"
		 "        MaxInstances: %d\n"
		 "        MaxConcurrentInstanceCreateOps: %d\n"
		 "        ResourceTags:\n"
		 "          Owner: ops\n"
		 "        DriverParameters:\n"
		 "          AccessKeyID: AKIADRIVERSECRETKEY\n"
		 "          SecretAccessKey: driversecretaccesskeyvalue\n"
		 "    InstanceTypes:\n"
		 "      small:\n"
		 "        ProviderType: m5.large\n"
		 "        VCPUs: 2\n"
		 "        RAM: 8GiB\n"
		 "        Price: 0.1\n"
		 "      small-spot:\n"
		 "        ProviderType: m5.large\n"
		 "        VCPUs: 2\n"
		 "        RAM: 8GiB\n"
		 "        Price: 0.05\n"
		 "        Preemptible: true\n"
		 "      big:\n"
		 "        ProviderType: m5.xlarge\n"
		 "        VCPUs: 4\n"
		 "        RAM: 16GiB\n"
		 "        Price: 0.2\n"
		 "      other:\n"
		 "        ProviderType: c5.large\n"
		 "        VCPUs: 2\n"
		 "        RAM: 4GiB\n"
		 "        Price: 0.08\n"
		 "%s",
		 dflt(p->boot, 400), dflt(p->probe, 400), dflt(p->idle, 60000),
		 dflt(p->shutdown, 60000), dflt(p->term, 400), dflt(p->signal, 30),
		 dflt(p->stale, 100), dflt(p->probe_interval, 10), dflt(p->sync_interval, 20),
		 p->probes_rate ? p->probes_rate : 1000.0, p->cloud_ops_rate, p->max_instances,
		 p->max_create_ops, p->extra_types ? p->extra_types : "");
	h->cl = cfg_load_buffer(yaml, strlen(yaml), "pool-test.yml", &d);
	for (size_t i = 0; i < d.n; i++) {
		char *s = cfg_diag_format(&d.v[i]);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	cfg_diags_free(&d);
	if (!h->cl)
		return -1;
	h->metrics = metrics_new();
	const char *names[16];
	size_t nt = h->cl->n_instance_types < 16 ? h->cl->n_instance_types : 16;

	for (size_t i = 0; i < nt; i++)
		names[i] = h->cl->instance_types[i].name;
	struct metrics_catalog_init in = { .version = "test",
					   .instance_types = names,
					   .n_instance_types = nt,
					   .spot_notices = true };
	metrics_catalog_register(h->metrics, &in);
	/* The log goes to a file the tests read. */
	snprintf(h->log_path, sizeof(h->log_path), "/tmp/pool-test-log-XXXXXX");
	h->log_fd = mkstemp(h->log_path);
	unlink(h->log_path);
	fflush(stderr);
	h->saved_stderr = dup(2);
	dup2(h->log_fd, 2);
	log_init("arvados-dispatch-cloud", LOG_FMT_JSON, LOG_LVL_DEBUG);
	log_set_journal(false);
	h->deadman_timeout_ns = (int64_t)p->deadman_ms * 1000000;
	h->spot_notices = p->spot_notices;
	return fk_start_pool(h, p->runner_md5);
}

int
fk_start_pool(struct fk_harness *h, const char *runner_md5)
{
	struct pool_opts o = {
		.loop = &h->loop,
		.cluster = h->cl,
		.cloud = fk_cloud_port(&h->fk),
		.ssh = fk_ssh_port(&h->fk),
		.metrics = h->metrics,
		.on_change = fk_changed,
		.on_change_ctx = h,
		.runner_md5 = runner_md5,
		.deadman_timeout_ns = h->deadman_timeout_ns,
		.spot_notices = h->spot_notices,
	};

	return pool_new(&o, &h->pool);
}

void
fk_stop_pool(struct fk_harness *h)
{
	if (!h->pool)
		return;
	pool_close(h->pool);
	h->pool = NULL;
	for (int i = 0; i < h->fk.n_hung; i++)
		uv_timer_start(h->fk.hung[i], fk_defer_fire, 0, 0);
	h->fk.n_hung = 0;
	uv_run(&h->loop, UV_RUN_DEFAULT); /* until every fake answer and timer is done */
}

void
fk_teardown(struct fk_harness *h)
{
	fk_stop_pool(h);
	uv_loop_close(&h->loop);
	fflush(stderr);
	dup2(h->saved_stderr, 2);
	close(h->saved_stderr);
	if (getenv("POOL_TEST_VERBOSE")) {
		char buf[4096];
		ssize_t n;

		lseek(h->log_fd, 0, SEEK_SET);
		while ((n = read(h->log_fd, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)n, stderr);
	}
	close(h->log_fd);
	metrics_free(h->metrics);
	cfg_free(h->cl);
}

struct fk_until {
	struct fk_harness *h;
	bool (*pred)(struct fk_harness *, void *);
	void *arg;
};

static bool
fk_until_pred(void *arg)
{
	struct fk_until *u = arg;

	return u->pred(u->h, u->arg);
}

/* The shared wait (tests/support): a bare UV_RUN_ONCE loop can sleep past a condition a timer
 * completed (libuv 1.44, issue 18). */
bool
fk_run_until(struct fk_harness *h, bool (*pred)(struct fk_harness *, void *), void *arg,
	     int timeout_ms)
{
	struct fk_until u = { h, pred, arg };

	return uvw_run_until(&h->loop, fk_until_pred, &u,
			     timeout_ms > 0 ? (uint64_t)timeout_ms : 1) == 0;
}

static bool
fk_never(struct fk_harness *h, void *arg)
{
	(void)h;
	(void)arg;
	return false;
}

void
fk_run_for(struct fk_harness *h, int ms)
{
	fk_run_until(h, fk_never, NULL, ms);
}

static char *
fk_log_read(struct fk_harness *h)
{
	off_t n;
	char *buf;

	fflush(stderr);
	n = lseek(h->log_fd, 0, SEEK_END);
	buf = calloc(1, (size_t)n + 1);
	if (buf && n > 0 && pread(h->log_fd, buf, (size_t)n, 0) != n)
		buf[0] = 0;
	return buf;
}

int
fk_log_count(struct fk_harness *h, const char *msg)
{
	char *buf = fk_log_read(h), pat[512];
	int c = 0;

	snprintf(pat, sizeof(pat), "\"msg\":\"%s\"", msg);
	for (char *p = buf; p && (p = strstr(p, pat)); p += strlen(pat))
		c++;
	free(buf);
	return c;
}

bool
fk_log_has(struct fk_harness *h, const char *msg)
{
	return fk_log_count(h, msg) > 0;
}

bool
fk_log_contains(struct fk_harness *h, const char *s)
{
	char *buf = fk_log_read(h);
	bool r = buf && strstr(buf, s);

	free(buf);
	return r;
}

void
fk_log_reset(struct fk_harness *h)
{
	fflush(stderr);
	if (ftruncate(h->log_fd, 0) == 0)
		lseek(h->log_fd, 0, SEEK_SET);
}

const char *
fk_state(struct fk_harness *h, const char *id, const char **idle)
{
	static char st[32], ib[32];
	cJSON *a = pool_instances_json(h->pool), *o;

	st[0] = ib[0] = 0;
	cJSON_ArrayForEach(o, a)
	{
		if (strcmp(cJSON_GetObjectItem(o, "instance")->valuestring, id) == 0) {
			snprintf(st, sizeof(st), "%s",
				 cJSON_GetObjectItem(o, "worker_state")->valuestring);
			snprintf(ib, sizeof(ib), "%s",
				 cJSON_GetObjectItem(o, "idle_behavior")->valuestring);
		}
	}
	cJSON_Delete(a);
	if (idle)
		*idle = ib;
	return st;
}
