/*
 * helper_setup.c - see helper_setup.h.
 */
#include "helper_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "child.h"
#include "env_secrets.h"
#include "proto_cloud.h"
#include "proto_ssh.h"
#include "secret_fd.h"
#include "util.h"

/* Built in one buffer that is wiped after the memfd holds it. */
int
helper_cloud_secret_fd(const struct cfg_secrets *s)
{
	static const char pre[] = "{\"DriverParameters\":", mid[] = ",\"Env\":";
	const char *dp = s->driver_parameters_json ? s->driver_parameters_json : "{}";
	size_t dplen = s->driver_parameters_json ? s->driver_parameters_len : 2;
	cJSON *env = NULL;
	char *envs = NULL, *blob = NULL;
	size_t len = 0;
	int fd;

	fd = env_secrets_take(&env);
	if (fd == 0 && (envs = cJSON_PrintUnformatted(env)) == NULL)
		fd = -ENOMEM;
	env_secrets_free(env);
	if (fd == 0) {
		len = strlen(pre) + dplen + strlen(mid) + strlen(envs) + 2; /* "}" and NUL */
		if ((blob = malloc(len)) == NULL)
			fd = -ENOMEM;
	}
	if (fd == 0) {
		snprintf(blob, len, "%s%.*s%s%s}", pre, (int)dplen, dp, mid, envs);
		fd = secret_memfd_create("driver-parameters", blob, strlen(blob));
		adc_wipe(blob, len);
	}
	free(blob);
	if (envs != NULL) {
		adc_wipe(envs, strlen(envs));
		free(envs);
	}
	return fd;
}

int
helper_key_fd(const struct cfg_secrets *s)
{
	int fd;

	if (s->dispatch_private_key_path != NULL) {
		fd = open(s->dispatch_private_key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -errno : fd;
	}
	if (s->dispatch_private_key != NULL && s->dispatch_private_key_len > 0)
		return secret_memfd_create("dispatch-private-key", s->dispatch_private_key,
					   s->dispatch_private_key_len);
	return -ENOKEY;
}

int
helper_cloud_init_encode(struct proto_wbuf *w, const struct cfg_cluster *cfg,
			 const char *instance_set_id)
{
	const struct cfg_cloudvms *vm = &cfg->containers.cloudvms;
	struct proto_cloud_init m = {
		.driver = vm->driver,
		.driver_params_json = "", /* the secret rides as the fd */
		.instance_set_id = (char *)instance_set_id,
		.tag_key_prefix = vm->tag_key_prefix,
		.shared_tag_keys = vm->resource_tag_keys,
		.shared_tag_values = vm->resource_tag_values,
		.n_shared_tags = (uint32_t)vm->n_resource_tags,
	};

	return proto_cloud_init_encode(w, 0, 0, &m);
}

int
helper_ssh_init_encode(struct proto_wbuf *w, const struct cfg_cluster *cfg,
		       const char *boot_probe_command, const char *runner_md5, bool heartbeat,
		       const char *imds_url, const char *imds_kind)
{
	const struct cfg_cloudvms *vm = &cfg->containers.cloudvms;
	struct proto_ssh_init m = {
		.boot_probe_command = (char *)boot_probe_command,
		.ssh_port = vm->ssh_port,
		.cluster_id = cfg->cluster_id,
		.connect_timeout_ms = 30000,
		.command_timeout_ms = 300000,
		.crunch_run_command = cfg->containers.crunch_run_command,
		.deploy_dir = vm->deploy_runner_directory,
		.runner_md5 = (char *)runner_md5,
		.heartbeat = heartbeat,
		.imds_url = (char *)imds_url,
		.imds_kind = (char *)imds_kind,
	};

	return proto_ssh_init_encode(w, 0, 0, &m, true);
}

int
helper_cloud_check_init(const struct proto_msg *m, char *why, size_t len)
{
	struct proto_status s;
	int r;

	if (proto_status_decode(m, &s) != 0) {
		snprintf(why, len, "malformed init answer");
		return -1;
	}
	r = s.status == PROTO_OK ? 0 : s.status == PROTO_E_PERMANENT ? CHILD_INIT_PERMANENT : -1;
	if (r != 0)
		snprintf(why, len, "%s: %s", r > 0 ? "error initializing driver" : "init failed",
			 s.message);
	proto_status_free(&s);
	return r;
}

int
helper_ssh_check_init(const struct proto_msg *m, char *why, size_t len, char **public_key)
{
	struct proto_ssh_init_ans a;

	if (proto_ssh_init_ans_decode(m, &a) != 0) {
		snprintf(why, len, "malformed init answer");
		return -1;
	}
	if (a.status != PROTO_OK) {
		int r = a.status == PROTO_E_PERMANENT ? CHILD_INIT_PERMANENT : -1;

		snprintf(why, len, "%s", a.message); /* sshd-pool names the key or setting */
		proto_ssh_init_ans_free(&a);
		return r;
	}
	if (public_key != NULL) {
		free(*public_key);
		*public_key = a.public_key;
		a.public_key = NULL;
	}
	proto_ssh_init_ans_free(&a);
	return 0;
}
