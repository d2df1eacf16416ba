/* config_free.c - releasing a loaded cluster; secrets are wiped, not just freed. */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "util.h"

void
cfg_itype_free(struct cfg_instance_type *t)
{
	free(t->name);
	free(t->provider_type);
	free(t->gpu.driver_version);
	free(t->gpu.hardware_target);
	memset(t, 0, sizeof(*t));
}

void
cfg_secrets_wipe(struct cfg_secrets *s)
{
	if (!s)
		return;
	if (s->driver_parameters_json) {
		adc_wipe(s->driver_parameters_json, s->driver_parameters_len);
		free(s->driver_parameters_json);
	}
	if (s->dispatch_private_key) {
		adc_wipe(s->dispatch_private_key, s->dispatch_private_key_len);
		free(s->dispatch_private_key);
	}
	free(s->dispatch_private_key_path);
	adc_wipe(s, sizeof(*s));
}

static void
cfg_free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void
cfg_free_containers(struct cfg_containers *k)
{
	struct cfg_cloudvms *v = &k->cloudvms;

	free(k->crunch_run_command);
	cfg_free_strv(k->crunch_run_arguments, k->n_crunch_run_arguments);
	free(k->runtime_engine);
	free(k->local_keep_logs_to_container_log);
	free(v->driver);
	free(v->image_id);
	free(v->instance_init_command);
	free(v->ssh_port);
	free(v->boot_probe_command);
	free(v->deploy_runner_binary);
	free(v->deploy_runner_directory);
	cfg_free_strv(v->resource_tag_keys, v->n_resource_tags);
	cfg_free_strv(v->resource_tag_values, v->n_resource_tags);
	free(v->tag_key_prefix);
}

void
cfg_free(struct cfg_cluster *c)
{
	if (!c)
		return;
	cfg_secrets_wipe(&c->secrets);
	cfg_postgres_free(&c->postgres);
	free(c->cluster_id);
	free(c->source_path);
	/* The tokens are secrets too, though the parent keeps them. */
	adc_free_secret_str(c->system_root_token);
	adc_free_secret_str(c->management_token);
	free(c->controller_external_url);
	for (size_t i = 0; i < c->n_dispatch_internal_urls; i++) {
		free(c->dispatch_internal_urls[i].url);
		free(c->dispatch_internal_urls[i].listen_url);
	}
	free(c->dispatch_internal_urls);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->log_format);
	free(c->log_level);
	cfg_free_containers(&c->containers);
	for (size_t i = 0; i < c->n_instance_types; i++)
		cfg_itype_free(&c->instance_types[i]);
	free(c->instance_types);
	adc_free_secret_str(c->worker_cluster_json);
	free(c);
}
