/*
 * cloudd.c - cloudd's set-up and init.
 *
 * Before the sandbox (cloudd_setup): the CA certificates (AWS_CA_BUNDLE, else the system store
 * as curl finds it, ca_store.h) are read into memory (curl gets them as a blob), and the
 * loopback driver's private directory is made.
 * At init the secret arrives as an fd (secret_fd.h) holding one JSON object:
 *
 *     {"DriverParameters": {...}, "Env": {"AWS_ACCESS_KEY_ID": "...", ...}}
 *
 * DriverParameters is the config's; Env holds the AWS_* credential variables dispatcherd
 * found in its own environment at start-up and removed from it (docs/ARCHITECTURE.md,
 * "Secrets"). Without an fd, CLOUD_INIT_REQ's driver_params_json is DriverParameters alone.
 * The driver is then built from both; the endpoint comes from the (non-secret) environment.
 */
#include "cloudd.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca_store.h"
#include "drv_check.h"
#include "ec2_ops.h"
#include "log.h"
#include "loopback.h"
#include "params_defaults.h"
#include "secret_fd.h"
#include "util.h"

#define CLOUDD_MAX_PARAMS (1u << 20)
#define CLOUDD_MAX_CA	  (16u << 20)

static const char *const cloudd_drivers[] = { "ec2", "azure", "loopback" };

/* cJSON holds DriverParameters (credentials): every block it frees is wiped first. */
static void
cloudd_wiping_free(void *p)
{
	if (p != NULL)
		adc_wipe(p, malloc_usable_size(p));
	free(p);
}

/* The CA certificates into memory (ca_store.h): after the sandbox no file can be opened. */
static int
cloudd_read_ca(struct cloudd *cd)
{
	struct ca_sources src;
	char from[1024], err[1200];

	ca_sources_default(&src);
	if (ca_store_load(&src, &cd->ca_pem, &cd->ca_pem_len, CLOUDD_MAX_CA, from, sizeof(from),
			  err, sizeof(err)) != 0) {
		log_kv_err(LOG_LVL_FATAL, "cannot load the CA certificates", err,
			   LF_STR("Driver", "ec2"));
		return -1;
	}
	if (cd->ca_pem_len == 0)
		log_kv(LOG_LVL_WARN,
		       "no CA certificates found: HTTPS to the cloud API will fail; name a bundle "
		       "with AWS_CA_BUNDLE or SSL_CERT_FILE",
		       LF_STR("cainfo", src.curl_cainfo ? src.curl_cainfo : ""),
		       LF_STR("capath", src.curl_capath ? src.curl_capath : ""));
	else
		log_kv(LOG_LVL_INFO, "CA certificates loaded", LF_STR("from", from),
		       LF_INT("bytes", (int64_t)cd->ca_pem_len));
	return 0;
}

/* Loopback: $RUNTIME_DIRECTORY/loopback-XXXXXX under systemd, else /tmp/adc-loopback-XXXXXX;
 * mode 0700, owned by cloudd's user. Landlock then allows everything beneath it. */
static int
cloudd_loopback_prepare(struct cloudd *cd)
{
	const char *base = getenv("RUNTIME_DIRECTORY");
	struct passwd *pw = getpwuid(geteuid());

	if (base == NULL || *base == 0 || strchr(base, ':') != NULL)
		base = "/tmp";
	if ((size_t)snprintf(cd->private_dir, sizeof(cd->private_dir), "%s/adc-loopback-XXXXXX",
			     base) >= sizeof(cd->private_dir) ||
	    mkdtemp(cd->private_dir) == NULL) {
		log_kv_err(LOG_LVL_FATAL, "loopback: cannot create a private directory",
			   strerror(errno), LF_STR("path", base));
		return -1;
	}
	cd->private_dir_made = true;
	if (pw == NULL || strlen(pw->pw_name) >= sizeof(cd->user)) {
		log_kv(LOG_LVL_FATAL, "loopback: cannot name the current user",
		       LF_INT("uid", geteuid()));
		return -1;
	}
	snprintf(cd->user, sizeof(cd->user), "%s", pw->pw_name);
	/* A root sshd chroots its pre-auth child here; systemd's ssh.service normally makes
	 * it, and after the sandbox nothing can. */
	if (geteuid() == 0 && mkdir("/run/sshd", 0755) != 0 && errno != EEXIST) {
		log_kv_err(LOG_LVL_FATAL, "loopback: cannot create a directory", strerror(errno),
			   LF_STR("path", "/run/sshd"));
		return -1;
	}
	return 0;
}

int
cloudd_setup(struct cloudd *cd, uv_loop_t *loop, const char *driver)
{
	cJSON_Hooks hooks = { .malloc_fn = malloc, .free_fn = cloudd_wiping_free };
	bool known = false;

	cJSON_InitHooks(&hooks);
	cd->loop = loop;
	for (size_t i = 0; driver != NULL && i < sizeof(cloudd_drivers) / sizeof(*cloudd_drivers);
	     i++)
		known = known || strcmp(driver, cloudd_drivers[i]) == 0;
	if (!known) {
		log_kv(LOG_LVL_FATAL, "unsupported cloud driver",
		       LF_STR("Driver", driver ? driver : ""));
		return -1;
	}
	snprintf(cd->driver, sizeof(cd->driver), "%s", driver);
	if (strcmp(driver, "ec2") == 0)
		return cloudd_read_ca(cd);
	if (strcmp(driver, "loopback") == 0)
		return cloudd_loopback_prepare(cd);
	if (strcmp(driver, "azure") == 0) {
		char err[300];

		if (azure_preload(&cd->azure_pre, err, sizeof(err)) != 0) {
			log_kv_err(LOG_LVL_FATAL, "azure: cannot load before the sandbox", err,
				   LF_STR("Driver", "azure"));
			return -1;
		}
	}
	return 0;
}

static int
cloudd_answer(struct proto_wbuf *ans, int32_t status, const char *msg)
{
	return proto_status_encode(
		ans, PROTO_CLOUD_INIT_ANS, 0,
		&(struct proto_status){ .status = status, .message = (char *)msg });
}

/* The fd's envelope, or the inline DriverParameters. */
static int
cloudd_load_params(struct cloudd *cd, int fd, const char *inline_json)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	cJSON *root;

	if (fd < 0) {
		cd->params = cJSON_Parse(inline_json);
		return cJSON_IsObject(cd->params) ? 0 : -EINVAL;
	}
	int r = secret_fd_read(fd, &buf, &len, CLOUDD_MAX_PARAMS);
	close(fd);
	if (r != 0)
		return r;
	root = cJSON_Parse((const char *)buf);
	adc_wipe(buf, len);
	free(buf);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	cd->params = cJSON_DetachItemFromObjectCaseSensitive(root, "DriverParameters");
	cd->env = cJSON_DetachItemFromObjectCaseSensitive(root, "Env");
	cJSON_Delete(root);
	if (!cJSON_IsObject(cd->params) || (cd->env != NULL && !cJSON_IsObject(cd->env)))
		return -EINVAL;
	return 0;
}

static const char *
cloudd_env(const struct cloudd *cd, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cd->env, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
cloudd_make_driver(struct cloudd *cd, char *err, size_t errlen)
{
	if (strcmp(cd->driver, "ec2") == 0) {
		struct ec2_env_keys env = {
			.akid = cloudd_env(cd, "AWS_ACCESS_KEY_ID"),
			.secret = cloudd_env(cd, "AWS_SECRET_ACCESS_KEY"),
			.token = cloudd_env(cd, "AWS_SESSION_TOKEN"),
		};
		struct ec2_driver_opts o = {
			.ca_pem = cd->ca_pem,
			.ca_pem_len = cd->ca_pem_len,
			/* Only the parent's moved variables: getenv would find nothing anyway. */
			.env = &env,
		};
		return ec2_driver_new(cd->loop, cd->params, &o, &cd->drv, err, errlen);
	}
	if (strcmp(cd->driver, "loopback") == 0)
		return loopback_driver_new(cd->loop, cd->private_dir, cd->user, &cd->drv, err,
					   errlen);
	if (strcmp(cd->driver, "azure") == 0) {
		struct azure_driver_opts o = {
			.instance_set_id = cd->instance_set_id,
			.env_json = cd->azure_pre.env_json,
			.ca_pem = cd->azure_pre.ca_pem,
			.ca_pem_len = cd->azure_pre.ca_pem_len,
		};
		return azure_driver_new(cd->loop, cd->params, &o, &cd->drv, err, errlen);
	}
	snprintf(err, errlen, "the %s driver is not implemented in cloudd yet", cd->driver);
	return -ENOSYS;
}

int
cloudd_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg)
{
	struct cloudd *cd = arg;
	struct proto_cloud_init ci;
	char err[512] = "";
	int r;

	if (proto_cloud_init_decode(m, &ci) != 0) {
		if (m->fd >= 0)
			close(m->fd);
		cloudd_answer(ans, PROTO_E_INVALID, "malformed init");
		return -1;
	}
	if (strcmp(ci.driver, cd->driver) != 0) {
		if (m->fd >= 0)
			close(m->fd);
		proto_cloud_init_free(&ci);
		cloudd_answer(ans, PROTO_E_INVALID,
			      "driver differs from the one cloudd was started for");
		return -1;
	}
	cJSON_Delete(cd->params);
	cJSON_Delete(cd->env);
	cd->params = cd->env = NULL;
	r = cloudd_load_params(cd, m->fd, ci.driver_params_json);
	if (r != 0) {
		proto_cloud_init_free(&ci);
		cloudd_answer(ans, r == -EINVAL ? PROTO_E_PERMANENT : PROTO_E_FAILED,
			      "Containers.CloudVMs.DriverParameters is not a JSON object");
		return -1;
	}
	/* As the reference's config loader: the defaults under the site's keys. */
	if (params_merge_defaults(cd->params) != 0) {
		proto_cloud_init_free(&ci);
		cloudd_answer(ans, PROTO_E_FAILED, "out of memory");
		return -1;
	}
	free(cd->instance_set_id);
	free(cd->tag_key_prefix);
	cd->instance_set_id = ci.instance_set_id;
	cd->tag_key_prefix = ci.tag_key_prefix;
	ci.instance_set_id = ci.tag_key_prefix = NULL;
	proto_cloud_init_free(&ci);
	/* What a restart would refuse again (drv_check.h): the dispatcher stops on it. */
	if (cd->drv == NULL &&
	    drv_params_check(cd->driver, cd->params, err, sizeof(err), NULL) != 0) {
		log_kv_err(LOG_LVL_ERROR, "error initializing driver", err,
			   LF_STR("Driver", cd->driver));
		cloudd_answer(ans, PROTO_E_PERMANENT, err);
		return -1;
	}
	if (cd->drv == NULL && (r = cloudd_make_driver(cd, err, sizeof(err))) != 0) {
		log_kv_err(LOG_LVL_ERROR, "error initializing driver", err,
			   LF_STR("Driver", cd->driver));
		cloudd_answer(ans, PROTO_E_FAILED, err);
		return -1;
	}
	/* The driver has copied what it needs; the environment copies go now. */
	cJSON_Delete(cd->env);
	cd->env = NULL;
	cd->initialised = true;
	log_kv(LOG_LVL_INFO, "cloud driver configured", LF_STR("Driver", cd->driver),
	       LF_STR("InstanceSetID", cd->instance_set_id));
	return cloudd_answer(ans, PROTO_OK, "") == 0 ? 0 : -1;
}

void
cloudd_teardown(struct cloudd *cd)
{
	/* A driver may only be freed with nothing in flight (drv.h); the process is ending
	 * anyway when something still is. */
	if (cd->drv != NULL && cd->inflight == 0)
		cd->drv->ops->free(cd->drv);
	cJSON_Delete(cd->params);
	cJSON_Delete(cd->env);
	free(cd->instance_set_id);
	free(cd->tag_key_prefix);
	free(cd->ca_pem);
	free(cd->starts_sent);
	azure_preload_free(&cd->azure_pre);
	if (cd->private_dir_made)
		rmdir(cd->private_dir); /* empty once the loopback driver is freed */
	memset(cd, 0, sizeof(*cd));
}
