/* harness.c - see harness.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"
#include "uv_wait.h"

static int
fake_sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0 ? 0 : -1;
}

int
fake_start(struct fake *f, const char *script, const char *const *args)
{
	char cmd[600], line[8192];
	const char *argv[64];
	int pfd[2], n = 0;
	FILE *in;
	const cJSON *ep;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/adc-ec2-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "sh %s/mkca.sh %s", EC2_TEST_DIR, f->dir);
	if (fake_sh(cmd) < 0)
		return -1;
	snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
	if (pipe(pfd) < 0)
		return -1;
	argv[n++] = "/usr/bin/python3";
	argv[n++] = script ? script : FAKE_EC2_PY;
	argv[n++] = "--port";
	argv[n++] = "0";
	char cert[300], key[300], logp[300];

	snprintf(cert, sizeof(cert), "%s/srv.pem", f->dir);
	snprintf(key, sizeof(key), "%s/srv.key", f->dir);
	snprintf(logp, sizeof(logp), "%s/server.log", f->dir);
	argv[n++] = "--tls";
	argv[n++] = cert;
	argv[n++] = key;
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		FILE *lf = fopen(logp, "w");

		dup2(pfd[1], 1);
		if (lf)
			dup2(fileno(lf), 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	if (!in || !fgets(line, sizeof(line), in)) {
		if (in)
			fclose(in);
		fake_stop(f);
		return -1;
	}
	fclose(in); /* the server keeps its stdout; it does not write more */
	f->info = cJSON_Parse(line);
	ep = cJSON_GetObjectItem(f->info, "endpoint");
	if (!cJSON_IsString(ep)) {
		fake_stop(f);
		return -1;
	}
	snprintf(f->endpoint, sizeof(f->endpoint), "%s", ep->valuestring);
	return 0;
}

void
fake_stop(struct fake *f)
{
	char cmd[300];

	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	cJSON_Delete(f->info);
	f->info = NULL;
	if (f->dir[0] && !getenv("EC2_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		fake_sh(cmd);
	}
}

struct fbuf {
	char *p;
	size_t n;
};

static size_t
fake_w(char *p, size_t s, size_t n, void *a)
{
	struct fbuf *b = a;
	char *np = realloc(b->p, b->n + s * n + 1);

	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, p, s * n);
	b->n += s * n;
	b->p[b->n] = 0;
	return s * n;
}

cJSON *
fake_ctl(struct fake *f, const char *method, const char *path, const char *body)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct fbuf b = { 0 };
	char url[512];
	cJSON *j = NULL;

	snprintf(url, sizeof(url), "%s%s", f->endpoint, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_CAINFO, f->ca);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fake_w);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(e) == CURLE_OK && b.p)
		j = cJSON_Parse(b.p);
	free(b.p);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return j;
}

int
fake_ctl0(struct fake *f, const char *method, const char *path, const char *body)
{
	cJSON *j = fake_ctl(f, method, path, body);

	cJSON_Delete(j);
	return j ? 0 : -1;
}

void
fake_last_auth(struct fake *f, char *akid, size_t al, char *tok, size_t tl)
{
	cJSON *j = fake_ctl(f, "GET", "/_fake/requests", NULL);
	cJSON *a = cJSON_GetObjectItem(j, "requests");
	cJSON *e = cJSON_GetArrayItem(a, cJSON_GetArraySize(a) - 1);
	cJSON *h = cJSON_GetObjectItem(e, "headers");
	cJSON *au = cJSON_GetObjectItem(h, "Authorization"),
	      *st = cJSON_GetObjectItem(h, "X-Amz-Security-Token");
	const char *c = cJSON_IsString(au) ? strstr(au->valuestring, "Credential=") : NULL;

	snprintf(akid, al, "%.*s", c ? (int)strcspn(c + 11, "/") : 0, c ? c + 11 : "");
	snprintf(tok, tl, "%s", cJSON_IsString(st) ? st->valuestring : "");
	cJSON_Delete(j);
}

int
fake_count(struct fake *f, const char *action)
{
	char path[200];
	cJSON *j;
	int n;

	snprintf(path, sizeof(path), "/_fake/requests%s%s", action ? "?action=" : "",
		 action ? action : "");
	j = fake_ctl(f, "GET", path, NULL);
	n = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : -1;
	if (cJSON_IsObject(j)) {
		cJSON *r = cJSON_GetObjectItem(j, "requests");

		n = cJSON_IsArray(r) ? cJSON_GetArraySize(r) : -1;
	}
	cJSON_Delete(j);
	return n;
}

struct drv *
drv_for(uv_loop_t *loop, struct fake *f, const char *params_json,
	const struct ec2_driver_opts *extra)
{
	cJSON *p = cJSON_Parse(params_json ? params_json : "{}");
	struct ec2_driver_opts o = { 0 };
	struct drv *d = NULL;
	char err[300];

	if (extra)
		o = *extra;
	if (!o.endpoint)
		o.endpoint = f->endpoint;
	if (!o.ca_file)
		o.ca_file = f->ca;
	if (!cJSON_GetObjectItem(p, "Region"))
		cJSON_AddStringToObject(p, "Region", "us-east-1");
	if (!cJSON_GetObjectItem(p, "AccessKeyID") && !getenv("EC2_TEST_NO_STATIC")) {
		cJSON_AddStringToObject(p, "AccessKeyID", "AKIDEXAMPLE");
		cJSON_AddStringToObject(p, "SecretAccessKey",
					"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	}
	if (ec2_driver_new(loop, p, &o, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "ec2_driver_new: %s\n", err);
		d = NULL;
	}
	cJSON_Delete(p);
	return d;
}

void
drv_done_free(uv_loop_t *loop, struct drv *d)
{
	if (!d)
		return;
	d->ops->free(d);
	uv_run(loop, UV_RUN_DEFAULT); /* lets the closed handles finish */
}

void
op_result_free(struct op_result *r)
{
	drv_instance_free(&r->inst);
	for (size_t i = 0; i < r->n_list; i++)
		drv_instance_free(&r->list[i]);
	free(r->list);
	free(r->destroy_errs);
	memset(r, 0, sizeof(*r));
}

static void
op_take_err(struct op_result *r, const struct drv_error *e)
{
	r->done = true;
	if (e && e->cls != DRV_OK) {
		r->failed = true;
		r->err = *e;
	}
}

static void
on_create(void *arg, const struct drv_error *e, const struct drv_instance *i)
{
	struct op_result *r = arg;

	op_take_err(r, e);
	if (i) {
		r->inst.id = strdup(i->id);
		r->inst.provider_type = strdup(i->provider_type);
		r->inst.address = strdup(i->address);
		r->inst.subnet_id = strdup(i->subnet_id);
		r->inst.state = strdup(i->state);
		r->inst.az = strdup(i->az);
		r->inst.spot = i->spot;
		drv_tags_copy(&r->inst.tags, &i->tags);
	}
}

/* The shared wait (tests/support): a bare UV_RUN_ONCE loop can sleep past a completion made
 * by a timer (libuv 1.44, issue 18), and spun forever on a loop with nothing left. */
static void
run_until(uv_loop_t *loop, struct op_result *r)
{
	if (uvw_until_true(loop, &r->done, 120000) != 0) {
		fprintf(stderr, "ec2 harness: the operation did not complete within 120 s\n");
		abort();
	}
}

int
do_create(uv_loop_t *loop, struct drv *d, const struct drv_itype *t, const struct drv_tags *tags,
	  const char *pubkey, const char *key, struct op_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ec2_create_keyed(d, t, "ami-0123456789abcdef0", tags,
			      "umask 0177 && echo -n \"0123456789abcdef0123456789abcdef01234567\" "
			      ">/var/run/arvados-instance-secret",
			      pubkey, key, on_create, r);
	if (rc == 0)
		run_until(loop, r);
	return rc;
}

static void
on_page(void *arg, const struct drv_instance *v, size_t n)
{
	struct op_result *r = arg;

	r->list = realloc(r->list, (r->n_list + n) * sizeof(*r->list));
	for (size_t i = 0; i < n; i++) {
		struct drv_instance *o = &r->list[r->n_list + i];

		memset(o, 0, sizeof(*o));
		o->id = strdup(v[i].id);
		o->provider_type = strdup(v[i].provider_type);
		o->address = strdup(v[i].address);
		o->subnet_id = strdup(v[i].subnet_id);
		o->state = strdup(v[i].state);
		o->az = strdup(v[i].az);
		o->spot = v[i].spot;
		drv_tags_copy(&o->tags, &v[i].tags);
	}
	r->n_list += n;
	r->n_pages++;
}

static void
on_done(void *arg, const struct drv_error *e)
{
	op_take_err(arg, e);
}

int
do_list(uv_loop_t *loop, struct drv *d, const struct drv_tags *filter, struct op_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = d->ops->list(d, filter, on_page, on_done, r);
	if (rc == 0)
		run_until(loop, r);
	return rc;
}

static void
on_destroy(void *arg, size_t n, const char *const *ids, const struct drv_error *errs)
{
	struct op_result *r = arg;

	(void)ids;
	r->done = true;
	r->n_destroy = n;
	r->destroy_errs = calloc(n, sizeof(*errs));
	memcpy(r->destroy_errs, errs, n * sizeof(*errs));
	for (size_t i = 0; i < n; i++)
		if (errs[i].cls != DRV_OK)
			r->failed = true;
}

int
do_destroy(uv_loop_t *loop, struct drv *d, const char *const *ids, size_t n, struct op_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = d->ops->destroy(d, ids, n, on_destroy, r);
	if (rc == 0)
		run_until(loop, r);
	return rc;
}

int
do_set_tags(uv_loop_t *loop, struct drv *d, const char *id, const struct drv_tags *tags,
	    struct op_result *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = d->ops->set_tags(d, id, tags, on_done, r);
	if (rc == 0)
		run_until(loop, r);
	return rc;
}
