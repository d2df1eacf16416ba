/*
 * cli.c - the command line, with Go's flag syntax as the reference has it: one or two
 * leading dashes, "-f value" or "-f=value", parsing stops at the first non-flag. Unknown
 * flags and positional arguments are usage errors (exit 2, which systemd does not restart).
 */
#include "cli.h"
#include "proto_ssh.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct cli_flag {
	const char *name;
	bool is_bool;
	size_t offset; /* into struct cli_opts; (size_t)-1 = accepted and ignored */
};

#define OPT(f)	offsetof(struct cli_opts, f)
#define IGNORED ((size_t)-1)

static const struct cli_flag cli_flags[] = {
	{ "config", false, OPT(config_path) },
	{ "version", true, OPT(version) },
	{ "help", true, OPT(help) },
	{ "h", true, OPT(help) },
	{ "insecure-no-sandbox", true, OPT(insecure_no_sandbox) },
	{ "require-landlock", true, OPT(require_landlock) },
	{ "cloudd-path", false, OPT(cloudd_path) },
	{ "sshd-pool-path", false, OPT(sshd_pool_path) },
	{ "cloudd-user", false, OPT(cloudd_user) },
	{ "sshd-pool-user", false, OPT(sshd_pool_user) },
	{ "max-hourly-spend", false, OPT(max_hourly_spend) },
	{ "deadman-timeout", false, OPT(deadman_timeout) },
	{ "spot-fallback-price-factor", false, OPT(spot_fallback_price_factor) },
	{ "spot-fallback-after-attempts", false, OPT(spot_fallback_after_attempts) },
	{ "spot-interruption-notices", true, OPT(spot_notices) },
	{ "instance-metadata-url", false, OPT(imds_url) },
	/* The reference's flags that mean nothing here (spec 1.1: accept and ignore). */
	{ "pprof", false, IGNORED },
	{ "skip-legacy", true, IGNORED },
};

static const struct cli_flag *
cli_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(cli_flags) / sizeof(cli_flags[0]); i++)
		if (strlen(cli_flags[i].name) == len && strncmp(cli_flags[i].name, name, len) == 0)
			return &cli_flags[i];
	/* -legacy-<component>-config FILE */
	if (len > 14 && strncmp(name, "legacy-", 7) == 0 &&
	    strncmp(name + len - 7, "-config", 7) == 0) {
		static const struct cli_flag legacy = { "legacy-*-config", false, IGNORED };
		return &legacy;
	}
	return NULL;
}

static int
cli_set_bool(const struct cli_flag *f, const char *val, struct cli_opts *o, FILE *err)
{
	bool v = true;

	if (val != NULL) {
		if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0 || strcmp(val, "t") == 0)
			v = true;
		else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0 ||
			 strcmp(val, "f") == 0)
			v = false;
		else {
			fprintf(err, "invalid boolean value \"%s\" for -%s\n", val, f->name);
			return 2;
		}
	}
	if (f->offset != IGNORED)
		*(bool *)((char *)o + f->offset) = v;
	return 0;
}

static int
cli_parse_flags(int argc, char **argv, int i, struct cli_opts *o, FILE *err)
{
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			fprintf(err, "unexpected argument \"%s\"\n", a);
			return 2;
		}
		a += (a[1] == '-') ? 2 : 1;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		const struct cli_flag *f = cli_find(a, len);
		if (f == NULL) {
			fprintf(err, "flag provided but not defined: -%.*s\n", (int)len, a);
			return 2;
		}
		if (f->is_bool) {
			if (cli_set_bool(f, eq ? eq + 1 : NULL, o, err) != 0)
				return 2;
			continue;
		}
		const char *val = eq ? eq + 1 : NULL;
		if (val == NULL) {
			if (i + 1 >= argc) {
				fprintf(err, "flag needs an argument: -%s\n", f->name);
				return 2;
			}
			val = argv[++i];
		}
		if (f->offset != IGNORED)
			*(const char **)((char *)o + f->offset) = val;
	}
	return 0;
}

/* A dollar amount: a finite number >= 0 (0 = off), as Go's flag.Float64 would accept. */
static int
cli_parse_dollars(const char *val, const char *name, double *out, FILE *err)
{
	char *end;
	double v;

	*out = 0;
	if (val == NULL)
		return 0;
	v = strtod(val, &end);
	if (end == val || *end != '\0' || !isfinite(v) || v < 0) {
		fprintf(err, "invalid value \"%s\" for flag -%s: want dollars >= 0\n", val, name);
		return 2;
	}
	*out = v;
	return 0;
}

/* A Go duration >= 0 (0 = off), the config's syntax (cfg_parse_duration). */
static int
cli_parse_duration(const char *val, const char *name, int64_t *out, FILE *err)
{
	cfg_duration_ns v = 0;

	*out = 0;
	if (val == NULL)
		return 0;
	if (cfg_parse_duration(val, &v) != 0 || v < 0) {
		fprintf(err, "invalid value \"%s\" for flag -%s: want a duration >= 0, e.g. 60m\n",
			val, name);
		return 2;
	}
	*out = v;
	return 0;
}

/* -spot-fallback-price-factor F (a finite number > 0) and -spot-fallback-after-attempts N
 * (1-255: lock_count is counted in a byte), which needs the first (it names the on-demand
 * types allowed). */
static int
cli_parse_spot_fallback(struct cli_opts *o, FILE *err)
{
	const char *f = o->spot_fallback_price_factor, *n = o->spot_fallback_after_attempts;
	char *end;

	if (f != NULL) {
		o->spot_fallback_factor = strtod(f, &end);
		if (end == f || *end != '\0' || !isfinite(o->spot_fallback_factor) ||
		    !(o->spot_fallback_factor > 0)) {
			fprintf(err,
				"invalid value \"%s\" for flag -spot-fallback-price-factor: want a "
				"number > 0\n",
				f);
			return 2;
		}
	}
	if (n == NULL)
		return 0;
	long v = strtol(n, &end, 10);

	if (end == n || *end != '\0' || v < 1 || v > 255) {
		fprintf(err,
			"invalid value \"%s\" for flag -spot-fallback-after-attempts: want 1 to "
			"255\n",
			n);
		return 2;
	}
	if (f == NULL) {
		fprintf(err, "-spot-fallback-after-attempts needs -spot-fallback-price-factor\n");
		return 2;
	}
	o->spot_fallback_attempts = (unsigned)v;
	return 0;
}

int
cli_parse(int argc, char **argv, struct cli_opts *o, FILE *err)
{
	int i = 1;

	memset(o, 0, sizeof(*o));
	/* The admin client parses its own arguments (instance_cli.c). */
	if (argc > 1 && strcmp(argv[1], "instance") == 0) {
		o->command = CLI_INSTANCE;
		o->sub_argc = argc - 2;
		o->sub_argv = argv + 2;
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "config-check") == 0) {
		o->command = CLI_CONFIG_CHECK;
		i = 2;
	}
	if (cli_parse_flags(argc, argv, i, o, err) != 0)
		return 2;
	if (cli_parse_duration(o->deadman_timeout, "deadman-timeout", &o->deadman_timeout_ns, err))
		return 2;
	/* EC2's instance metadata service; tests point it at a fake on 127.0.0.0/8. */
	if (o->imds_url == NULL)
		o->imds_url = "http://169.254.169.254";
	else if (!proto_ssh_valid_imds_url(o->imds_url)) {
		fprintf(err,
			"invalid value \"%s\" for flag -instance-metadata-url: want "
			"http://HOST[:PORT]\n",
			o->imds_url);
		return 2;
	}
	if (cli_parse_dollars(o->max_hourly_spend, "max-hourly-spend", &o->max_hourly_spend_dollars,
			      err) != 0)
		return 2;
	return cli_parse_spot_fallback(o, err);
}

void
cli_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [config-check] [flags]\n"
		"       %s instance list|kill|drain|hold|run [-config FILE] [...]\n"
		"       %s cloudtest [-config FILE] [-instance-type NAME] [...]\n"
		"\n"
		"The Arvados cloud dispatcher: runs queued containers on cloud VMs.\n"
		"\n"
		"  config-check             check the configuration and exit\n"
		"  instance ...             list or act on the dispatcher's instances (management "
		"API)\n"
		"  cloudtest ...            create, boot-probe and destroy one test instance "
		"(cloudtest -help)\n"
		"  -config FILE             cluster config (default $ARVADOS_CONFIG, else "
		"/etc/arvados/config.yml)\n"
		"  -version                 print the version and exit\n"
		"  -help                    print this help and exit\n"
		"  -cloudd-path PATH        the cloudd helper (default: beside this program, else "
		"the libexec dir)\n"
		"  -sshd-pool-path PATH     the sshd-pool helper (same default)\n"
		"  -cloudd-user USER        user cloudd runs as when started as root (default "
		"arvados-cloudd)\n"
		"  -sshd-pool-user USER     user sshd-pool runs as when started as root (default "
		"arvados-sshd-pool)\n"
		"  -insecure-no-sandbox     run the helpers without their sandbox (testing only; "
		"logged loudly)\n"
		"  -require-landlock        refuse to start on a kernel without Landlock "
		"(default: start, warn)\n"
		"  -max-hourly-spend DOLLARS  budget cap: create no instance that would take the "
		"hourly spend above it (default 0: off)\n"
		"  -deadman-timeout DURATION  dead-man's switch (EC2): a worker powers itself off "
		"when no probe has reached it for DURATION and no crunch-run is alive (default 0: "
		"off)\n"
		"  -spot-fallback-price-factor F  a preemptible container whose spot types are all "
		"at capacity may run on an on-demand type priced at most F x its spot choice "
		"(default: off)\n"
		"  -spot-fallback-after-attempts N  also fall back once a container had N earlier "
		"dispatch attempts (lock_count; 1-255; needs the factor)\n"
		"  -spot-interruption-notices  drain a preemptible instance once EC2 or Azure "
		"announces its interruption, and create its replacement (default: off)\n"
		"  -instance-metadata-url URL  where workers read that notice (default "
		"http://169.254.169.254)\n"
		"  -pprof ADDR, -legacy-*-config FILE, -skip-legacy   accepted for compatibility, "
		"ignored\n",
		prog, prog, prog);
}
