/*
 * instance_cli.c - `arvados-dispatch-cloud instance <subcommand>`: subcommand dispatch, flags
 * and config loading as the reference's `arvados-server instance` (lib/cmd Multi and
 * ParseFlags, Go's flag package). The subcommands themselves are in instance_cli_list.c and
 * instance_cli_action.c.
 *
 * Flags (Go syntax: one or two dashes, -f=v or -f v, parsing stops at the first non-flag or
 * after "--"): -config FILE for every subcommand, -header for list, -reason R for kill, and,
 * not in the reference (which has no time limit at all), -timeout DURATION (default 1m0s): each
 * request's total time limit. The
 * reference has no flag to choose the address or to print JSON, so neither is invented here:
 * the address is every Services.DispatchCloud.InternalURLs entry, and JSON comes from the API.
 */
#include "instance_cli.h"
#include "instance_cli_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct icli_sub {
	const char *name;
	bool header; /* accepts -header (list) */
	bool reason; /* accepts -reason (kill) */
};

/* Sorted, as the reference lists them. */
static const struct icli_sub icli_subs[] = {
	{ "drain", false, false }, { "hold", false, false }, { "kill", false, true },
	{ "list", true, false },   { "run", false, false },
};
#define ICLI_NSUBS (sizeof(icli_subs) / sizeof(icli_subs[0]))

struct icli_flags {
	const char *config;
	const char *reason;
	const char *timeout;
	bool header;
	int nargs; /* positional arguments left */
	char **args;
};

static void
icli_commands(FILE *err)
{
	fputs("\nAvailable commands:\n", err);
	for (size_t i = 0; i < ICLI_NSUBS; i++)
		fprintf(err, "    %s\n", icli_subs[i].name);
}

/* Go's flag.PrintDefaults layout, after ParseFlags' "Usage:" line. */
static void
icli_usage(const struct icli_sub *s, const char *prog, FILE *err)
{
	const char *def = getenv("ARVADOS_CONFIG");

	fprintf(err, "Usage: %s %s [options] %s\n", prog, s->name,
		strcmp(s->name, "list") ? "instance-id [...]" : "");
	fprintf(err,
		"  -config file\n    \tSite configuration file (default may be overridden by "
		"setting an ARVADOS_CONFIG environment variable) (default \"%s\")\n",
		def && *def ? def : CFG_DEFAULT_PATH);
	if (s->header)
		fputs("  -header\n    \tprint column headings\n", err);
	if (s->reason)
		fputs("  -reason string\n    \treason to write in dispatch system logs\n", err);
	fputs("  -timeout duration\n    \ttotal time allowed for each request to the dispatcher "
	      "(default 1m0s)\n",
	      err);
}

/* strconv.ParseBool */
static int
icli_parse_bool(const char *v, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < 6; i++) {
		if (strcmp(v, t[i]) == 0 || strcmp(v, f[i]) == 0) {
			*out = strcmp(v, t[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/*
 * Go's FlagSet.Parse. Returns 0; 1 for -h/-help (flag.ErrHelp); -1 with the error text of
 * Go's flag package in why.
 */
static int
icli_parse_flags(const struct icli_sub *s, int argc, char **argv, struct icli_flags *fl, char *why,
		 size_t whylen)
{
	int i = 0;

	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strlen(a) < 2 || a[0] != '-')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		const char *name = a + 1 + (a[1] == '-');
		if (name[0] == '\0' || name[0] == '-' || name[0] == '=') {
			snprintf(why, whylen, "bad flag syntax: %s", a);
			return -1;
		}
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const char *val = eq ? eq + 1 : NULL;
#define IS(n) (len == strlen(n) && strncmp(name, (n), len) == 0)
		if (IS("header") && s->header) {
			if (val && icli_parse_bool(val, &fl->header) < 0) {
				snprintf(why, whylen,
					 "invalid boolean value \"%s\" for -header: parse error",
					 val);
				return -1;
			}
			if (!val)
				fl->header = true;
			continue;
		}
		if (IS("help") || IS("h"))
			return 1;
		const char **dst = IS("config")			 ? &fl->config
				   : (IS("reason") && s->reason) ? &fl->reason
				   : IS("timeout")		 ? &fl->timeout
								 : NULL;
#undef IS
		if (dst == NULL) {
			snprintf(why, whylen, "flag provided but not defined: -%.*s", (int)len,
				 name);
			return -1;
		}
		if (val == NULL) {
			if (i + 1 >= argc) {
				snprintf(why, whylen, "flag needs an argument: -%.*s", (int)len,
					 name);
				return -1;
			}
			val = argv[++i];
		}
		*dst = val;
	}
	fl->nargs = argc - i;
	fl->args = argv + i;
	return 0;
}

/* The reference parses the config with a logger on stderr: warnings and errors go there. */
static struct cfg_cluster *
icli_load_config(const char *path, FILE *err)
{
	struct cfg_diags diags = { 0 };
	struct cfg_cluster *c = cfg_load(path, &diags);

	for (size_t i = 0; i < diags.n; i++) {
		char *s = cfg_diag_format(&diags.v[i]);
		fprintf(err, "%s\n", s ? s : diags.v[i].message);
		free(s);
	}
	if (c != NULL && diags.nerrors > 0) {
		cfg_free(c);
		c = NULL;
	}
	cfg_diags_free(&diags);
	return c;
}

/* Keep the first of repeated IDs (the reference keeps a set), in command-line order. */
static int
icli_dedup(char **ids, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		int j = 0;
		while (j < k && strcmp(ids[j], ids[i]) != 0)
			j++;
		if (j == k)
			ids[k++] = ids[i];
	}
	return k;
}

static int
icli_run(const struct icli_sub *s, const char *prog, int argc, char **argv, FILE *out, FILE *err)
{
	struct icli_flags fl = { .reason = "" };
	char why[512];
	int rc = icli_parse_flags(s, argc, argv, &fl, why, sizeof(why));

	if (rc == 1) {
		icli_usage(s, prog, err);
		return 0;
	}
	if (rc < 0) {
		fprintf(err, "error parsing command line arguments: %s (try -help)\n", why);
		return ICLI_EX_USAGE;
	}
	if (fl.timeout != NULL) {
		cfg_duration_ns d = 0;

		if (cfg_parse_duration(fl.timeout, &d) != 0 || d < 1000000 ||
		    d / 1000000 > 24LL * 3600 * 1000) {
			fprintf(err,
				"error parsing command line arguments: invalid value \"%s\" for "
				"flag -timeout: want a duration from 1ms to 24h, e.g. 30s (try "
				"-help)\n",
				fl.timeout);
			return ICLI_EX_USAGE;
		}
		icli_set_timeout_ms((long)(d / 1000000));
	}
	if (s->header && fl.nargs > 0) {
		/* Go's %v of a []string: [a b c] */
		fputs("unrecognized command line arguments: [", err);
		for (int i = 0; i < fl.nargs; i++)
			fprintf(err, "%s%s", i ? " " : "", fl.args[i]);
		fputs("] (try -help)\n", err);
		return ICLI_EX_USAGE;
	}
	if (!s->header && fl.nargs == 0) {
		fputs("usage error: no instance IDs provided\n", err);
		return 2;
	}
	struct cfg_cluster *c = icli_load_config(fl.config, err);
	if (c == NULL)
		return 1;
	if (c->n_dispatch_internal_urls == 0) {
		fputs("no Services.DispatchCloud.InternalURLs configured\n", err);
		cfg_free(c);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("cannot initialise libcurl\n", err);
		cfg_free(c);
		return 1;
	}
	if (s->header)
		rc = icli_list(c, fl.header, out, err);
	else
		rc = icli_action(c, s->name, fl.reason, fl.args, icli_dedup(fl.args, fl.nargs),
				 err);
	curl_global_cleanup();
	cfg_free(c);
	return rc;
}

int
instance_cli_main(const char *prog, int argc, char **argv, FILE *out, FILE *err)
{
	if (argc < 1) {
		fputs("usage error: no subcommand specified\n", err);
		icli_commands(err);
		return 2;
	}
	for (size_t i = 0; i < ICLI_NSUBS; i++)
		if (strcmp(argv[0], icli_subs[i].name) == 0) {
			int rc = icli_run(&icli_subs[i], prog, argc - 1, argv + 1, out, err);
			fflush(out);
			return rc;
		}
	fprintf(err, "%s: unrecognized command \"%s\"\n", prog, argv[0]);
	icli_commands(err);
	return 2;
}
