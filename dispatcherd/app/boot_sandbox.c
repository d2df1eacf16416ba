/*
 * boot_sandbox.c - the parent sandboxes itself (docs/SANDBOX.md, "The parent").
 *
 * It runs after everything that reads a file the parent must not read later (the config file,
 * the secrets, the management TLS files, the runner binary) and before the helpers start, so
 * that their first start sees the same world as every restart: Landlock and seccomp are
 * inherited across execve, and the helpers' needs up to their own sandbox are part of the
 * parent's rules (common/sandbox_landlock_dispatcher.c, sandbox_seccomp_dispatcher.c).
 *
 * The loopback driver is the exception: its cloudd runs sshd and crunch-run on this host,
 * which inherit whatever confines the parent, and they need the whole system (the same reason
 * loopback cloudd applies no sandbox, docs/SANDBOX.md). The parent then stays open too.
 */
#include "dispatcher_internal.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_paths.h"
#include "log.h"
#include "sandbox.h"

#define LOG_NO_FIELDS ((const struct log_field[]){ LF_END })

/* Where the helpers resolve from: resolved once, before the sandbox (helper_path reads
 * /proc/self/exe), and only these two files can be executed afterwards. */
int
boot_helper_paths(struct dispatcher *d)
{
	if (helper_path(d->opts->cloudd_path, d->argv0, "cloudd", d->cloudd_path,
			sizeof(d->cloudd_path)) != 0 ||
	    helper_path(d->opts->sshd_pool_path, d->argv0, "sshd-pool", d->sshpool_path,
			sizeof(d->sshpool_path)) != 0)
		return -1;
	return 0;
}

/* The management server's certificate and key, read while the files can still be read. */
int
boot_tls(struct dispatcher *d)
{
	char err[512];

	if (d->listen.https &&
	    http_listen_load_tls(d->cfg->tls_certificate, d->cfg->tls_key, &d->tls_cert,
				 &d->tls_key, err, sizeof(err)) != 0) {
		log_emit_err(LOG_LVL_FATAL, "cannot load TLS certificate", err, LOG_NO_FIELDS);
		return -1;
	}
	return 0;
}

/* Files a restarted helper, or libpq at each reconnect, reads: the CA bundles cloudd copies
 * into memory at its start (ca_store.c reads the same variables and curl's defaults), the
 * Azure Stack environment file (azure_preload), and the files PostgreSQL.Connection
 * names. */
static size_t
boot_sandbox_read_paths(const struct dispatcher *d, const char **out, size_t max)
{
	static const char *const env[] = { "AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
					   "AZURE_ENVIRONMENT_FILEPATH" };
	static const char *const pg[] = { "sslrootcert", "sslcert",   "sslkey",
					  "sslcrl",	 "sslcrldir", "passfile" };
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	size_t n = 0;

	for (size_t i = 0; i < sizeof(env) / sizeof(*env) && n < max; i++)
		if (getenv(env[i]) != NULL && *getenv(env[i]))
			out[n++] = getenv(env[i]);
	if (v != NULL && v->age >= CURLVERSION_SEVENTH && v->cainfo != NULL && n < max)
		out[n++] = v->cainfo;
	if (v != NULL && v->age >= CURLVERSION_SEVENTH && v->capath != NULL && n < max)
		out[n++] = v->capath;
	for (size_t i = 0; i < sizeof(pg) / sizeof(*pg) && n < max; i++)
		if (cfg_postgres_get(&d->cfg->postgres, pg[i]) != NULL)
			out[n++] = cfg_postgres_get(&d->cfg->postgres, pg[i]);
	return n;
}

/* The point of the parent's Landlock rules: the config file cannot be opened any more. It
 * can still be if -config put it under a directory the rules must grant (say
 * /usr/local/etc): say so loudly, once, rather than pretend. */
static void
boot_sandbox_check_config(const struct dispatcher *d)
{
	const char *path = d->opts->config_path ? d->opts->config_path : getenv("ARVADOS_CONFIG");
	int fd;

	if (d->opts->insecure_no_sandbox || sandbox_landlock_probe() <= 0)
		return; /* already logged: no filesystem layer */
	path = path ? path : "/etc/arvados/config.yml";
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	close(fd);
	log_kv(LOG_LVL_ERROR,
	       "sandbox: the config file is still readable after the dispatcher's sandbox (it "
	       "is under a directory the helpers need); move it, e.g. to /etc/arvados",
	       LF_STR("path", path), LF_STR("role", "dispatcher"));
}

/* Landlock confines the calling thread only (and what it creates later): a thread started
 * before the sandbox (libuv's threadpool, by an early uv_getaddrinfo or uv_fs call; curl's
 * resolver) would keep reading the whole file system, and the rest of the process shares its
 * memory. So nothing may start one before this step; this checks it (/proc/self/status). */
static long
boot_sandbox_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long n = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Threads:", 8) == 0)
			n = strtol(line + 8, NULL, 10);
	fclose(f);
	return n;
}

int
boot_sandbox(struct dispatcher *d)
{
	const char *exec[] = { d->cloudd_path, d->sshpool_path, NULL }, *read[16];
	struct sandbox_opts o = {
		.insecure = d->opts->insecure_no_sandbox,
		.require_landlock = d->opts->require_landlock,
		.exec_paths = exec,
		.read_paths = read,
		.listen_fd = d->listen.fd,
		.has_listen_fd = d->listen.fd >= 0,
	};

	if (strcmp(d->cfg->containers.cloudvms.driver, "loopback") == 0) {
		log_kv(LOG_LVL_WARN,
		       "loopback driver: the dispatcher applies no sandbox to itself (its helpers "
		       "and the commands run on this host would inherit it)",
		       LF_STR("role", "dispatcher"));
		return 0;
	}
	long threads = boot_sandbox_threads();
	if (threads != 1 && !o.insecure) {
		log_kv(LOG_LVL_FATAL,
		       "cannot sandbox the dispatcher: another thread already runs (Landlock would "
		       "not confine it)",
		       LF_INT("Threads", threads), LF_STR("role", "dispatcher"));
		return -1;
	}
	read[boot_sandbox_read_paths(d, read, 15)] = NULL;
	if (sandbox_apply(SANDBOX_DISPATCHER, &o) < 0)
		return -1;
	boot_sandbox_check_config(d);
	return 0;
}
