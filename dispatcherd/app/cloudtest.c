/*
 * cloudtest.c - see cloudtest.h. The steps, log lines and exit codes of spec cloud-drivers.md
 * section 6, as one state machine on a libuv loop (the flags and the sequence here; each
 * step's calls in cloudtest_steps.c, the helpers in cloudtest_helpers.c):
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
#include "cloudtest_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util.h"

#define CT_DEFAULT_SET_ID "zzzzz-zzzzz-zzzzzzcloudtest"

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

void
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
