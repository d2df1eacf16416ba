/*
 * config_secrets.c - what only the children may hold: the cloud driver's parameters (as
 * compact JSON for cloudd) and the SSH private key (inline text) or its file:/// path (the
 * parent never opens that file; it only passes the path on).
 */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "util.h"

static int
secrets_driver_params(struct cfg_ctx *x)
{
	const char *rel = "Containers.CloudVMs.DriverParameters";
	struct fy_node *k = NULL, *v = cfg_lookup(x->cluster, rel, &k);
	struct cfg_secrets *s = &x->c->secrets;
	cJSON *j;

	if (!cfg_node_is_null(v) && fy_node_get_type(v) != FYNT_MAPPING) {
		cfg_report(x, true, rel, k, v, "expected a mapping of driver parameters");
		return -1;
	}
	j = cfg_node_is_null(v) ? cJSON_CreateObject() : cfg_yaml_to_json(v);
	if (!j)
		return -1;
	s->driver_parameters_json = cJSON_PrintUnformatted(j);
	cfg_json_wipe_delete(j);
	if (!s->driver_parameters_json)
		return -1;
	s->driver_parameters_len = strlen(s->driver_parameters_json);
	return 0;
}

static int
secrets_private_key(struct cfg_ctx *x)
{
	const char *rel = "Containers.DispatchPrivateKey";
	struct fy_node *k = NULL, *v = cfg_lookup(x->cluster, rel, &k);
	struct cfg_secrets *s = &x->c->secrets;
	char *text = NULL;
	size_t lead;

	if (cfg_node_is_null(v))
		return 0; /* empty: whether that is fatal is the process's decision */
	if (cfg_node_str(x, rel, k, v, &text) < 0)
		return -1;
	lead = strspn(text, " \t\r\n");
	if (text[lead] == '\0') {
		adc_free_secret_str(text);
		return 0;
	}
	if (!strncmp(text + lead, "-----BEGIN ", 11)) {
		s->dispatch_private_key = text;
		s->dispatch_private_key_len = strlen(text);
		return 0;
	}
	if (!strncmp(text, "file:///", 8)) {
		s->dispatch_private_key_path = strdup(text + 7);
		adc_free_secret_str(text);
		return s->dispatch_private_key_path ? 0 : -1;
	}
	/* Do not echo the value: it may be a mangled key. */
	cfg_report(x, true, rel, k, v,
		   "expected an inline PEM/OpenSSH private key "
		   "(\"-----BEGIN ...\") or file:///absolute/path");
	adc_free_secret_str(text);
	return -1;
}

int
cfg_read_secrets(struct cfg_ctx *x)
{
	int rc = secrets_driver_params(x);

	return secrets_private_key(x) | rc;
}
