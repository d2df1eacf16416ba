/*
 * main.c - arvados-dispatch-cloud: command line, configuration, then the dispatcher.
 *
 * Before anything reads the config file, freed heap memory is set to be overwritten
 * (glibc M_PERTURB; the ASan allocator's free_fill in sanitizer builds): the YAML parser
 * and cJSON free their copies of the secrets with plain free(), and this makes sure those
 * bytes do not linger in the parent's heap (see docs/ARCHITECTURE.md, "Secrets").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "build_id.h"
#include "cli.h"
#include "cloudtest.h"
#include "config.h"
#include "config_check.h"
#include "dispatcher.h"
#include "heap_scrub.h"
#include "heap_tune.h"
#include "instance_cli.h"
#include "log.h"
#include "pool.h"
#include "sandbox.h"

#ifdef ADC_SANITIZE
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "max_free_fill_size=16777216:free_fill_byte=165";
}
#endif

static void
main_report_diags(const struct cfg_diags *diags, bool to_stderr)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct cfg_diag *dg = &diags->v[i];
		if (to_stderr) {
			char *s = cfg_diag_format(dg);
			fprintf(stderr, "%s\n", s ? s : dg->message);
			free(s);
			continue;
		}
		log_kv(dg->is_error ? LOG_LVL_FATAL : LOG_LVL_WARN, dg->message,
		       LF_STR("key", dg->key_path ? dg->key_path : ""),
		       LF_STR("file", dg->file ? dg->file : ""), LF_INT("line", dg->line),
		       LF_INT("column", dg->column));
	}
}

static int
main_config_check(const struct cli_opts *o)
{
	struct cfg_diags diags = { 0 };
	struct cfg_cluster *cfg = cfg_load(o->config_path, &diags);
	char why[256];
	int rc;

	/* Also what start-up would refuse later: the driver, its parameters, the key, the
	 * runner binary (config_check.h). */
	if (cfg != NULL)
		config_check_startup(cfg, &diags, true);
	/* -deadman-timeout against the driver and ProbeInterval, as boot_identity will. */
	if (cfg != NULL && pool_deadman_check(&cfg->containers.cloudvms, o->deadman_timeout_ns, why,
					      sizeof(why)) != 0)
		cfg_diag_error_at(&diags, cfg, CFG_AT_DRIVER, "%s", why);
	rc = (cfg == NULL || diags.nerrors > 0) ? 1 : 0;
	main_report_diags(&diags, true);
	if (rc == 0)
		printf("configuration OK\n");
	cfg_free(cfg);
	cfg_diags_free(&diags);
	return rc;
}

static int
main_run(const struct cli_opts *o, const char *argv0)
{
	struct cfg_diags diags = { 0 };
	struct cfg_cluster *cfg = cfg_load(o->config_path, &diags);
	int rc;

	if (cfg != NULL)
		config_check_startup(cfg, &diags, false); /* the helpers check the secrets */
	main_report_diags(&diags, false);
	if (cfg == NULL || diags.nerrors > 0) {
		cfg_free(cfg);
		cfg_diags_free(&diags);
		return 1;
	}
	cfg_diags_free(&diags);
	int fmt = log_format_parse(cfg->log_format), lvl = log_level_parse(cfg->log_level);
	log_init("arvados-dispatch-cloud", fmt < 0 ? LOG_FMT_JSON : (enum log_format)fmt,
		 lvl < 0 ? LOG_LVL_INFO : (enum log_level)lvl);
	log_set_cluster_id(cfg->cluster_id);
	if (o->insecure_no_sandbox)
		log_kv(LOG_LVL_ERROR,
		       "helpers will run WITHOUT their sandbox (-insecure-no-sandbox)",
		       LF_STR("flag", "-insecure-no-sandbox"));
	else if (o->require_landlock && sandbox_landlock_probe() <= 0) {
		/* The helpers would refuse too, one restart after another: stop here. */
		log_kv(LOG_LVL_FATAL,
		       "sandbox: kernel has no Landlock, and -require-landlock was given",
		       LF_STR("layer", "landlock"), LF_STR("flag", "-require-landlock"));
		cfg_free(cfg);
		return 1;
	}
	rc = dispatcher_run(o, cfg, argv0);
	cfg_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_opts o;
	int r;

	heap_scrub_begin();
	/* The scheduler's per-container arrays (order keys, the pass's records) are regrown and
	 * freed as the queue changes size: measured at 100,000 queued containers, 3.7 MB less
	 * resident with the threshold fixed (bench_e2e_scale). */
	heap_map_large_blocks();
	/* For the helpers, which inherit this environment: Debian's libcurl loads GnuTLS (through
	 * librtmp), whose constructor initializes it for nothing in cloudd (its curl uses OpenSSL,
	 * and librtmp initializes GnuTLS itself if RTMP were ever used): 0.6 MB of cloudd's pages.
	 * Too late for this process, and needed here anyway (libmicrohttpd's HTTPS). An operator's
	 * own setting wins. */
	setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
	prctl(PR_SET_NAME, "arvados-dispatc");
	log_init("arvados-dispatch-cloud", LOG_FMT_JSON, LOG_LVL_INFO);
	/* cloudtest parses its own flags (cloudtest.c), as `instance` does. */
	if (argc > 1 && strcmp(argv[1], "cloudtest") == 0)
		return cloudtest_main(argc - 1, argv + 1, argv[0]);
	if ((r = cli_parse(argc, argv, &o, stderr)) != 0) {
		cli_usage(stderr, "arvados-dispatch-cloud");
		return r;
	}
	if (o.command == CLI_INSTANCE)
		return instance_cli_main("arvados-dispatch-cloud instance", o.sub_argc, o.sub_argv,
					 stdout, stderr);
	if (o.help) {
		cli_usage(stderr, "arvados-dispatch-cloud");
		return 0;
	}
	if (o.version) {
		printf("arvados-dispatch-cloud %s (C; build %s)\n", ADC_VERSION, ADC_BUILD_ID);
		return 0;
	}
	if (o.command == CLI_CONFIG_CHECK)
		return main_config_check(&o);
	return main_run(&o, argv[0]);
}
