/* azure_params.c - Azure DriverParameters (spec 3.1) and cloud environments (3.2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure_int.h"
#include "config.h"
#include "util.h"

/* A string key (case-insensitive, as Go's JSON decoder matches), or def when absent/null. */
static int
az_pstr(const cJSON *j, const char *key, const char *def, char **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItem(j, key); /* case-insensitive */

	*out = NULL;
	if (v && !cJSON_IsNull(v) && !cJSON_IsString(v)) {
		snprintf(err, errlen, "Azure DriverParameters: %s must be a string", key);
		return -EINVAL;
	}
	*out = strdup(v && cJSON_IsString(v) ? v->valuestring : def);
	return *out ? 0 : -ENOMEM;
}

static int
az_pduration(const cJSON *j, const char *key, int64_t *out_s, char *err, size_t errlen)
{
	const cJSON *x = cJSON_GetObjectItem(j, key);
	cfg_duration_ns ns = 0;

	*out_s = 0;
	if (!x || cJSON_IsNull(x))
		return 0;
	if (cJSON_IsNumber(x) && x->valuedouble >= 0)
		ns = (cfg_duration_ns)x->valuedouble;
	else if (!cJSON_IsString(x) || cfg_parse_duration(x->valuestring, &ns) < 0 || ns < 0) {
		snprintf(err, errlen,
			 "Azure DriverParameters: %s is not a duration (like \"20s\" or \"1h30m\")",
			 key);
		return -EINVAL;
	}
	*out_s = ns / 1000000000;
	return 0;
}

int
azure_params_parse(const cJSON *j, struct azure_params *p, char *err, size_t errlen)
{
	static const struct {
		const char *key, *def;
		size_t off;
	} keys[] = {
#define K(k, d, f) { k, d, offsetof(struct azure_params, f) }
		K("SubscriptionID", "", subscription),
		K("ClientID", "", client_id),
		K("ClientSecret", "", client_secret),
		K("TenantID", "", tenant),
		K("CloudEnvironment", "AzurePublicCloud", cloud_env),
		K("Location", "centralus", location),
		K("ResourceGroup", "", resource_group),
		K("NetworkResourceGroup", "", network_rg),
		K("Network", "", network),
		K("Subnet", "", subnet),
		K("ImageResourceGroup", "", image_rg),
		K("SharedImageGalleryName", "", gallery),
		K("SharedImageGalleryImageVersion", "", gallery_version),
		K("StorageAccount", "", storage_account),
		K("BlobContainer", "", blob_container),
		K("AdminUsername", "crunch", admin_user),
#undef K
	};
	int r;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "Azure DriverParameters: not a JSON object");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		r = az_pstr(j, keys[i].key, keys[i].def, (char **)((char *)p + keys[i].off), err,
			    errlen);
		if (r < 0)
			goto fail;
	}
	if ((r = az_pduration(j, "DeleteDanglingResourcesAfter", &p->dangling_after_s, err,
			      errlen)) < 0)
		goto fail;
	if (!cJSON_GetObjectItem(j, "DeleteDanglingResourcesAfter"))
		p->dangling_after_s = 20; /* config.default.yml */
	if (*p->network_rg == 0) {
		free(p->network_rg);
		if (!(p->network_rg = strdup(p->resource_group)))
			goto nomem;
	}
	if (*p->image_rg == 0) {
		free(p->image_rg);
		if (!(p->image_rg = strdup(p->resource_group)))
			goto nomem;
	}
	if (*p->admin_user == 0) {
		free(p->admin_user);
		if (!(p->admin_user = strdup("crunch")))
			goto nomem;
	}
	return 0;
nomem:
	r = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	azure_params_free(p);
	return r;
}

void
azure_params_free(struct azure_params *p)
{
	adc_free_secret_str(p->client_secret);
	adc_free_secret_str(p->client_id);
	adc_free_secret_str(p->subscription);
	adc_free_secret_str(p->tenant);
	char **plain[] = { &p->cloud_env,	&p->location,	    &p->resource_group,
			   &p->network_rg,	&p->network,	    &p->subnet,
			   &p->image_rg,	&p->gallery,	    &p->gallery_version,
			   &p->storage_account, &p->blob_container, &p->admin_user };
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		free(*plain[i]);
	memset(p, 0, sizeof(*p));
}

/* The named environments of go-autorest (3.2). ARM is the environment's own endpoint. */
static const struct {
	const char *name, *aad, *arm, *suffix;
} az_envs[] = {
	{ "AzurePublicCloud", "https://login.microsoftonline.com/", "https://management.azure.com/",
	  "core.windows.net" },
	{ "AzureUSGovernmentCloud", "https://login.microsoftonline.us/",
	  "https://management.usgovcloudapi.net/", "core.usgovcloudapi.net" },
	{ "AzureChinaCloud", "https://login.chinacloudapi.cn/",
	  "https://management.chinacloudapi.cn/", "core.chinacloudapi.cn" },
	{ "AzureGermanCloud", "https://login.microsoftonline.de/",
	  "https://management.microsoftazure.de/", "core.cloudapi.de" },
};

static int
az_env_set(struct azure_env *e, const char *aad, const char *arm, const char *resource,
	   const char *suffix)
{
	size_t n;

	if ((size_t)snprintf(e->aad, sizeof(e->aad), "%s%s", aad,
			     aad[0] && aad[strlen(aad) - 1] == '/' ? "" : "/") >= sizeof(e->aad) ||
	    (size_t)snprintf(e->arm, sizeof(e->arm), "%s", arm) >= sizeof(e->arm) ||
	    (size_t)snprintf(e->resource, sizeof(e->resource), "%s", resource) >=
		    sizeof(e->resource) ||
	    (size_t)snprintf(e->storage_suffix, sizeof(e->storage_suffix), "%s", suffix) >=
		    sizeof(e->storage_suffix))
		return -EINVAL;
	n = strlen(e->arm);
	while (n > 0 && e->arm[n - 1] == '/')
		e->arm[--n] = 0;
	return 0;
}

static bool
az_https_url(const char *s)
{
	return s && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) &&
	       strlen(s) > 8;
}

int
azure_env_resolve(const char *name, const char *env_json, struct azure_env *e, char *err,
		  size_t errlen)
{
	memset(e, 0, sizeof(*e));
	for (size_t i = 0; name && i < sizeof(az_envs) / sizeof(*az_envs); i++)
		if (strcasecmp(name, az_envs[i].name) == 0)
			return az_env_set(e, az_envs[i].aad, az_envs[i].arm, az_envs[i].arm,
					  az_envs[i].suffix);
	if (!name || strcasecmp(name, "AzureStackCloud") != 0) {
		snprintf(err, errlen,
			 "Azure DriverParameters: CloudEnvironment: there is no cloud environment "
			 "matching the name \"%s\" (AzurePublicCloud, AzureUSGovernmentCloud, "
			 "AzureChinaCloud, AzureGermanCloud, AzureStackCloud)",
			 name ? name : "");
		return -EINVAL;
	}
	if (!env_json) {
		snprintf(err, errlen,
			 "CloudEnvironment AzureStackCloud needs the environment file named by "
			 "AZURE_ENVIRONMENT_FILEPATH");
		return -EINVAL;
	}
	cJSON *j = cJSON_Parse(env_json);
	const cJSON *arm = cJSON_GetObjectItem(j, "resourceManagerEndpoint");
	const cJSON *aad = cJSON_GetObjectItem(j, "activeDirectoryEndpoint");
	const cJSON *aud = cJSON_GetObjectItem(j, "tokenAudience");
	const cJSON *suf = cJSON_GetObjectItem(j, "storageEndpointSuffix");
	const cJSON *blob = cJSON_GetObjectItem(j, "storageBlobEndpoint");
	int r = 0;

	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "the Azure environment file is not a JSON object");
		r = -EINVAL;
	} else if (!cJSON_IsString(arm) || !az_https_url(arm->valuestring)) {
		snprintf(err, errlen,
			 "the Azure environment file has no resourceManagerEndpoint URL");
		r = -EINVAL;
	} else if (!cJSON_IsString(aad) || !az_https_url(aad->valuestring)) {
		snprintf(err, errlen,
			 "the Azure environment file has no activeDirectoryEndpoint URL");
		r = -EINVAL;
	} else if (az_env_set(e, aad->valuestring, arm->valuestring,
			      cJSON_IsString(aud) && *aud->valuestring ? aud->valuestring
								       : arm->valuestring,
			      cJSON_IsString(suf) ? suf->valuestring : "") < 0) {
		snprintf(err, errlen, "the Azure environment file has an endpoint too long");
		r = -EINVAL;
	} else if (cJSON_IsString(blob) &&
		   (!az_https_url(blob->valuestring) ||
		    (size_t)snprintf(e->blob_endpoint, sizeof(e->blob_endpoint), "%s",
				     blob->valuestring) >= sizeof(e->blob_endpoint))) {
		snprintf(err, errlen,
			 "the Azure environment file's storageBlobEndpoint is not a URL");
		r = -EINVAL;
	}
	cJSON_Delete(j);
	return r;
}

int
azure_params_check(const cJSON *params, char *msg, size_t msglen)
{
	struct azure_params p;
	struct azure_env e;
	int r;

	if (azure_params_parse(params, &p, msg, msglen) < 0)
		return -1;
	r = -1;
	if ((*p.gallery != 0) != (*p.gallery_version != 0))
		snprintf(msg, msglen,
			 "Azure DriverParameters: SharedImageGalleryName and "
			 "SharedImageGalleryImageVersion must be set together (%s is empty)",
			 *p.gallery ? "SharedImageGalleryImageVersion" : "SharedImageGalleryName");
	else if ((*p.storage_account != 0) != (*p.blob_container != 0))
		snprintf(msg, msglen,
			 "Azure DriverParameters: StorageAccount and BlobContainer must be set "
			 "together (%s is empty)",
			 *p.storage_account ? "BlobContainer" : "StorageAccount");
	else if (strcasecmp(p.cloud_env, "AzureStackCloud") != 0 &&
		 azure_env_resolve(p.cloud_env, NULL, &e, msg, msglen) < 0)
		;
	else if (!*p.subscription || !*p.tenant || !*p.client_id || !*p.client_secret)
		snprintf(msg, msglen, "Azure DriverParameters: %s is empty",
			 !*p.subscription ? "SubscriptionID"
			 : !*p.tenant	  ? "TenantID"
			 : !*p.client_id  ? "ClientID"
					  : "ClientSecret");
	else if (!*p.resource_group || !*p.network || !*p.subnet)
		snprintf(msg, msglen, "Azure DriverParameters: %s is empty",
			 !*p.resource_group ? "ResourceGroup"
			 : !*p.network	    ? "Network"
					    : "Subnet");
	else
		r = 0;
	azure_params_free(&p);
	return r;
}
