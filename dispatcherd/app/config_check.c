/* config_check.c - see config_check.h. */
#include "config_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libssh/libssh.h>

#include "drv_check.h"
#include "ops.h"
#include "pool.h"
#include "proto.h"
#include "secret_fd.h"
#include "sshpool.h"
#include "util.h"

static int
config_check_driver(const struct cfg_cluster *c, struct cfg_diags *d, bool with_secrets)
{
	const struct cfg_secrets *s = &c->secrets;
	enum drv_check_key key = DRV_CHECK_DRIVER;
	cJSON *params = NULL;
	char err[512] = "";
	int r;

	if (with_secrets) {
		params = s->driver_parameters_json != NULL
				 ? cJSON_ParseWithLength(s->driver_parameters_json,
							 s->driver_parameters_len)
				 : cJSON_CreateObject();
		if (!cJSON_IsObject(params)) {
			cJSON_Delete(params);
			cfg_diag_error_at(d, c, CFG_AT_DRIVER_PARAMETERS,
					  "cannot be read as a JSON object");
			return 1;
		}
	}
	r = drv_params_check(c->containers.cloudvms.driver, params, err, sizeof(err), &key);
	cJSON_Delete(params);
	if (r == 0)
		return 0;
	cfg_diag_error_at(d, c, key == DRV_CHECK_PARAMS ? CFG_AT_DRIVER_PARAMETERS : CFG_AT_DRIVER,
			  "%s", err);
	return 1;
}

/* The key's text: inline, or read from its file:/// path. 0 or -errno (with what in err). */
static int
config_check_key_text(const struct cfg_secrets *s, uint8_t **text, size_t *len, char *err,
		      size_t errlen)
{
	int fd, r;

	if (s->dispatch_private_key_path == NULL) {
		*len = s->dispatch_private_key_len;
		if ((*text = malloc(*len + 1)) == NULL)
			return -ENOMEM;
		memcpy(*text, s->dispatch_private_key, *len);
		(*text)[*len] = '\0';
		return 0;
	}
	if ((fd = open(s->dispatch_private_key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", s->dispatch_private_key_path,
			 strerror(-r));
		return r;
	}
	r = secret_fd_read(fd, text, len, PROTO_MAX_PRIVATE_KEY);
	close(fd);
	if (r != 0)
		snprintf(err, errlen, "cannot read %s: %s", s->dispatch_private_key_path,
			 strerror(-r));
	return r;
}

static int
config_check_key(const struct cfg_cluster *c, struct cfg_diags *d)
{
	const struct cfg_secrets *s = &c->secrets;
	uint8_t *text = NULL;
	size_t len = 0;
	ssh_key key = NULL;
	char *pub = NULL, err[512] = "";
	int r;

	if (s->dispatch_private_key_path == NULL &&
	    (s->dispatch_private_key == NULL || s->dispatch_private_key_len == 0)) {
		cfg_diag_error_at(d, c, CFG_AT_DISPATCH_KEY,
				  "no key configured: the dispatcher needs a private SSH key to "
				  "log in to the workers");
		return 1;
	}
	r = config_check_key_text(s, &text, &len, err, sizeof(err));
	if (r == 0) {
		r = sshpool_key_load((const char *)text, &key, &pub, err, sizeof(err));
		adc_wipe(text, len);
	}
	free(text);
	ssh_key_free(key);
	free(pub);
	if (r == 0)
		return 0;
	cfg_diag_error_at(d, c, CFG_AT_DISPATCH_KEY, "%s", err[0] ? err : strerror(-r));
	return 1;
}

static int
config_check_runner(const struct cfg_cluster *c, struct cfg_diags *d)
{
	char err[512] = "", *path = NULL;
	int fd, r;

	if (pool_runner_resolve(c->containers.cloudvms.deploy_runner_binary, NULL, &path, err,
				sizeof(err)) != 0) {
		cfg_diag_error_at(d, c, CFG_AT_DEPLOY_RUNNER, "%s",
				  err[0] ? err : "cannot resolve the runner binary");
		free(path);
		return 1;
	}
	r = 0;
	if (path[0] != '\0' && (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		cfg_diag_error_at(d, c, CFG_AT_DEPLOY_RUNNER, "cannot open %s: %s", path,
				  strerror(errno));
		r = 1;
	} else if (path[0] != '\0') {
		close(fd);
	}
	free(path);
	return r;
}

/* The runner settings as sshd-pool checks them (ops_new): one setting per call, so that the
 * error names its key. sshd-pool refuses the first two at init for good, the other two on every
 * start (no container would ever run). */
static int
config_check_runner_settings(const struct cfg_cluster *c, struct cfg_diags *d)
{
	const struct cfg_containers *ct = &c->containers;
	const struct {
		enum cfg_placed_key key;
		struct ops_conf conf;
	} checks[] = {
		{ CFG_AT_CRUNCH_RUN_COMMAND, { .crunch_run_command = ct->crunch_run_command } },
		{ CFG_AT_DEPLOY_DIRECTORY, { .deploy_dir = ct->cloudvms.deploy_runner_directory } },
		{ CFG_AT_RUNTIME_ENGINE, { .runtime_engine = ct->runtime_engine } },
		{ CFG_AT_CRUNCH_RUN_ARGS,
		  { .crunch_run_args = (const char *const *)ct->crunch_run_arguments,
		    .ncrunch_run_args = ct->n_crunch_run_arguments } },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(checks) / sizeof(*checks); i++) {
		struct ops *o = NULL;
		char why[256] = "";

		if (ops_new(&checks[i].conf, &o, why, sizeof(why)) == -EINVAL) {
			cfg_diag_error_at(d, c, checks[i].key, "%s", why);
			n++;
		}
		ops_free(o);
	}
	return n;
}

int
config_check_startup(const struct cfg_cluster *c, struct cfg_diags *d, bool with_secrets)
{
	int n = config_check_driver(c, d, with_secrets);

	if (with_secrets)
		n += config_check_key(c, d);
	return n + config_check_runner(c, d) + config_check_runner_settings(c, d);
}
