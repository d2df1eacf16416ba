/*
 * ops.c - typed worker operations: each builds its command line from validated values, runs it
 * on the worker's session, and interprets the result (spec/dispatcher.md 5.7-5.13).
 */
#include "container_uuid.h"
#include "ops_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadman.h"
#include "proto_ssh.h"
#include "quote.h"

#define OPS_SECRET_PATH "/var/run/arvados-instance-secret"

static int
ops_why(char *why, size_t len, const char *fmt, const char *what)
{
	snprintf(why, len, fmt, what);
	return -EINVAL;
}

static int
ops_check_conf(const struct ops_conf *c, char *why, size_t len)
{
	if (c->crunch_run_command && c->crunch_run_command[0] &&
	    !quote_valid_command(c->crunch_run_command))
		return ops_why(why, len,
			       "CrunchRunCommand %.100s: not a plain command name or path",
			       c->crunch_run_command);
	if (c->deploy_dir && c->deploy_dir[0] && !quote_valid_path(c->deploy_dir))
		return ops_why(why, len, "DeployRunnerDirectory %.100s: not a plain absolute path",
			       c->deploy_dir);
	if (c->runner_hash && c->runner_hash[0] && !quote_valid_md5(c->runner_hash))
		return ops_why(why, len, "runner hash %.40s: not an md5 hex digest",
			       c->runner_hash);
	if (c->imds_url && c->imds_url[0] && !proto_ssh_valid_imds_url(c->imds_url))
		return ops_why(why, len, "instance metadata URL %.100s: not http://host[:port]",
			       c->imds_url);
	if (c->imds_url && c->imds_url[0] && !proto_ssh_valid_imds_kind(c->imds_kind))
		return ops_why(why, len, "instance metadata kind %.20s: not ec2 or azure",
			       c->imds_kind ? c->imds_kind : "(null)");
	if (c->runtime_engine && c->runtime_engine[0] && !quote_valid_engine(c->runtime_engine))
		return ops_why(why, len, "RuntimeEngine %.70s: invalid", c->runtime_engine);
	for (size_t i = 0; i < c->ncrunch_run_args; i++)
		if (!quote_valid_arg(c->crunch_run_args[i]))
			return ops_why(why, len, "CrunchRunArgumentsList entry %.10s...: invalid",
				       c->crunch_run_args[i] ? c->crunch_run_args[i] : "(null)");
	return 0;
}

static const char *
ops_or(const char *s, const char *def)
{
	return s && s[0] ? s : def;
}

int
ops_new(const struct ops_conf *c, struct ops **out, char *why, size_t whylen)
{
	struct ops *o;
	int r;

	*out = NULL;
	if ((r = ops_check_conf(c, why, whylen)) != 0)
		return r;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	o->t = *c;
	o->boot_probe_command = strdup(ops_or(c->boot_probe_command, "true"));
	o->deploy_dir = strdup(ops_or(c->deploy_dir, "/tmp/arvados-crunch-run"));
	o->runtime_engine = strdup(ops_or(c->runtime_engine, "docker"));
	if (c->imds_url && c->imds_url[0] && !(o->imds_url = strdup(c->imds_url)))
		r = -1;
	o->imds_azure = o->imds_url && strcmp(c->imds_kind, "azure") == 0;
	if (c->runner_hash && c->runner_hash[0])
		r = asprintf(&o->runner, "%s/crunch-run~%s", o->deploy_dir, c->runner_hash);
	else
		r = (o->runner = strdup(ops_or(c->crunch_run_command, "crunch-run"))) ? 0 : -1;
	o->args = calloc(c->ncrunch_run_args + 1, sizeof(char *));
	o->nargs = c->ncrunch_run_args;
	for (size_t i = 0; o->args && i < o->nargs; i++)
		if ((o->args[i] = strdup(c->crunch_run_args[i])) == NULL)
			r = -1;
	if (r < 0 || !o->boot_probe_command || !o->deploy_dir || !o->runtime_engine || !o->args) {
		if (r < 0)
			o->runner = NULL;
		ops_free(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

void
ops_free(struct ops *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; o->args && i < o->nargs; i++)
		free(o->args[i]);
	free(o->args);
	free(o->boot_probe_command);
	free(o->deploy_dir);
	free(o->runtime_engine);
	free(o->imds_url);
	free(o->runner);
	free(o);
}

const char *
ops_runner(const struct ops *o)
{
	return o->runner;
}

/* ---- command lines ------------------------------------------------------------------------ */

static void
ops_sudo(struct quote_buf *b, const char *user)
{
	if (strcmp(user, "root") != 0)
		quote_buf_raw(b, "sudo ");
}

char *
ops_cmd_verify(const char *user, int *err)
{
	struct quote_buf b;

	quote_buf_init(&b);
	ops_sudo(&b, user);
	quote_buf_raw(&b, "cat " OPS_SECRET_PATH);
	return quote_buf_take(&b, err);
}

/*
 * The spot check (-spot-interruption-notices), ahead of crunch-run in the run probe's command
 * so that it costs no SSH session of its own, with curl, which Arvados's compute images have.
 * EC2 (imds_kind "ec2"): IMDSv2, a token (PUT) then the instance-action notice (GET). Azure
 * ("azure"): one GET of Scheduled Events with the "Metadata: true" header the service demands
 * (400 without it). Exactly one line, always the first of the output, whatever happens (the
 * pool reads it, pool_spot_parse.c):
 *   adc-spot action <body, newlines as spaces> <HTTP status>  (EC2; 404: no notice)
 *   adc-spot token <HTTP status>   (EC2, no token: 000 when nothing answered)
 *   adc-spot events <body, newlines as spaces> <HTTP status>  (Azure)
 *   adc-spot no-curl
 * It reads no stdin (the prices are crunch-run's), prints nothing on stderr, needs no root,
 * and leaves the exit status to crunch-run, which runs next. Each curl is bounded (1 s to
 * connect, 2 s in all), so an unreachable service delays the probe by at most 4 s.
 */
static void
ops_cmd_spot_ec2(struct quote_buf *b)
{
	quote_buf_raw(
		b, "t=$(curl -s --connect-timeout 1 -m 2 -X PUT "
		   "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60' -w ' %{http_code}' "
		   "\"$u/latest/api/token\" </dev/null 2>/dev/null); "
		   "case \"$t\" in *' 200') "
		   "a=$(curl -s --connect-timeout 1 -m 2 "
		   "-H \"X-aws-ec2-metadata-token: ${t% 200}\" -w ' %{http_code}' "
		   "\"$u/latest/meta-data/spot/instance-action\" </dev/null 2>/dev/null); "
		   "printf 'adc-spot action %s\\n' \"$(printf '%s' \"$a\" | tr '\\n\\r' '  ')\";; "
		   "*) printf 'adc-spot token %s\\n' \"${t##* }\";; esac; ");
}

static void
ops_cmd_spot_azure(struct quote_buf *b)
{
	quote_buf_raw(b, "a=$(curl -s --connect-timeout 1 -m 2 -H 'Metadata: true' "
			 "-w ' %{http_code}' "
			 "\"$u/metadata/scheduledevents?api-version=2020-07-01\" "
			 "</dev/null 2>/dev/null); "
			 "printf 'adc-spot events %s\\n' "
			 "\"$(printf '%s' \"$a\" | tr '\\n\\r' '  ')\"; ");
}

static void
ops_cmd_spot_check(struct quote_buf *b, const char *url, bool azure)
{
	quote_buf_raw(b, "u=");
	quote_buf_arg(b, url);
	quote_buf_raw(b, "; if command -v curl >/dev/null 2>&1; then ");
	if (azure)
		ops_cmd_spot_azure(b);
	else
		ops_cmd_spot_ec2(b);
	quote_buf_raw(b, "else echo adc-spot no-curl; fi; ");
}

char *
ops_cmd_run_probe(const struct ops *o, const char *user, int prices, bool spot, int *err)
{
	struct quote_buf b;

	if (spot && o->imds_url == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	quote_buf_init(&b);
	if (o->t.heartbeat) {
		/* The dead-man's switch (-deadman-timeout): one more process in the same session, so
		 * a probe round costs no extra SSH command; ";" keeps crunch-run's exit status and
		 * output the probe's own. touch reads no stdin: the prices still reach crunch-run. */
		ops_sudo(&b, user);
		quote_buf_raw(&b, "touch " ADC_DEADMAN_HEARTBEAT_PATH "; ");
	}
	if (spot)
		ops_cmd_spot_check(&b, o->imds_url, o->imds_azure);
	ops_sudo(&b, user);
	quote_buf_raw(&b, o->runner); /* validated: a plain path or name */
	quote_buf_raw(&b, prices ? " --list --stdin-prices" : " --list");
	return quote_buf_take(&b, err);
}

char *
ops_cmd_start(const struct ops *o, const char *user, const char *uuid, int *err)
{
	struct quote_buf b;
	char engine[96];

	if (!container_uuid_valid(uuid)) {
		*err = -EINVAL;
		return NULL;
	}
	quote_buf_init(&b);
	ops_sudo(&b, user);
	quote_buf_raw(&b, o->runner);
	quote_buf_raw(&b, " --detach --stdin-config ");
	snprintf(engine, sizeof(engine), "--runtime-engine=%s", o->runtime_engine);
	quote_buf_arg(&b, engine);
	for (size_t i = 0; i < o->nargs; i++) {
		quote_buf_raw(&b, " ");
		quote_buf_arg(&b, o->args[i]);
	}
	quote_buf_raw(&b, " ");
	quote_buf_arg(&b, uuid);
	return quote_buf_take(&b, err);
}

char *
ops_cmd_kill(const struct ops *o, const char *user, const char *uuid, int sig, int *err)
{
	struct quote_buf b;
	char num[16];

	if (!container_uuid_valid(uuid) || !quote_valid_signal(sig)) {
		*err = -EINVAL;
		return NULL;
	}
	quote_buf_init(&b);
	ops_sudo(&b, user);
	quote_buf_raw(&b, o->runner);
	snprintf(num, sizeof(num), " --kill %d ", sig);
	quote_buf_raw(&b, num);
	quote_buf_arg(&b, uuid); /* the reference leaves it bare (weakness 22); quoting is free */
	return quote_buf_take(&b, err);
}

/* Weakness 23: refuse a deploy directory (or a runner file in it) owned by anyone but the remote
 * user or root, e.g. a /tmp/arvados-crunch-run pre-created by another local user; and either of
 * them as a symbolic link, or the runner path as anything but a regular file (a worker user who
 * owns the directory could otherwise point crunch-run~<md5> at /etc/nologin). It runs before the
 * script writes anything; a path that does not exist yet passes (mkdir/mktemp create it). */
static void
ops_owner_guard(struct quote_buf *b, const char *user)
{
	quote_buf_raw(b,
		      "for p in \"${dstdir%/}\" \"$dstfile\"; do "
		      "if [ -L \"$p\" ]; then echo \"refusing to deploy: $p is a symbolic link\" "
		      ">&2; exit 97; fi; [ -e \"$p\" ] || continue; "
		      "if [ \"$p\" = \"$dstfile\" ] && [ ! -f \"$p\" ]; then "
		      "echo \"refusing to deploy: $p is not a regular file\" >&2; exit 97; fi; "
		      "o=$(stat -c %U -- \"$p\") || exit 97; "
		      "case \"$o\" in root|");
	quote_buf_arg(b, user);
	quote_buf_raw(b, ") ;; *) echo \"refusing to deploy: $p is owned by $o, not by ");
	quote_buf_raw(b, user); /* validated login name: no shell specials */
	quote_buf_raw(b, " or root\" >&2; exit 97;; esac; done; ");
}

static void
ops_deploy_vars(struct quote_buf *b, const struct ops *o, const char *md5)
{
	quote_buf_raw(b, "dstdir=\"");
	quote_buf_raw(b, o->deploy_dir);
	quote_buf_raw(b, "/\"; dstfile=\"");
	quote_buf_raw(b, o->deploy_dir);
	quote_buf_raw(b, "/crunch-run~");
	quote_buf_raw(b, md5);
	quote_buf_raw(b, "\"; ");
}

char *
ops_cmd_deploy_check(const struct ops *o, const char *user, const char *md5, int *err)
{
	struct quote_buf b;

	if (!quote_valid_md5(md5)) {
		*err = -EINVAL;
		return NULL;
	}
	quote_buf_init(&b);
	ops_deploy_vars(&b, o, md5);
	ops_owner_guard(&b, user);
	quote_buf_raw(&b, "md5sum ");
	quote_buf_raw(&b, o->deploy_dir);
	quote_buf_raw(&b, "/crunch-run~");
	quote_buf_raw(&b, md5);
	return quote_buf_take(&b, err);
}

char *
ops_cmd_deploy_install(const struct ops *o, const char *user, const char *md5, int *err)
{
	struct quote_buf b;
	char *script, *q;

	if (!quote_valid_md5(md5)) {
		*err = -EINVAL;
		return NULL;
	}
	quote_buf_init(&b);
	quote_buf_raw(&b, "set -e; ");
	ops_deploy_vars(&b, o, md5);
	ops_owner_guard(&b, user); /* before anything is written */
	/* A fresh file (mktemp: O_EXCL, never through a link), checked on the worker against the
	 * md5 before it is renamed into place: a short or mixed stream is never installed. */
	quote_buf_raw(&b, "mkdir -p \"$dstdir\"; tmp=$(mktemp \"$dstfile.XXXXXX\"); "
			  "trap 'rm -f \"$tmp\"' EXIT; cat >\"$tmp\"; set -- $(md5sum <\"$tmp\"); "
			  "if [ \"$1\" != ");
	quote_buf_raw(&b, md5); /* validated hex */
	quote_buf_raw(&b,
		      " ]; then echo \"refusing to install: md5 of the received file is $1, not ");
	quote_buf_raw(&b, md5);
	quote_buf_raw(&b, "\" >&2; exit 98; fi; chmod 0755 \"$dstdir\" \"$tmp\"; "
			  "mv -f \"$tmp\" \"$dstfile\"; trap - EXIT");
	if ((script = quote_buf_take(&b, err)) == NULL || strcmp(user, "root") == 0)
		return script;
	/* sudo sh -c '<script with each ' written as '\''>' (5.8) */
	q = quote_arg(script);
	free(script);
	if (q == NULL || asprintf(&script, "sudo sh -c %s", q) < 0) {
		free(q);
		*err = -ENOMEM;
		return NULL;
	}
	free(q);
	return script;
}
