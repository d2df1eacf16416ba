/*
 * pool_payload.c - what the pool sends to crunch-run: the --stdin-config payload (5.9) and the
 * --stdin-prices history (5.7.3).
 *
 * Cluster is cfg->worker_cluster_json, which the config loader already stripped of the driver
 * credentials, DispatchPrivateKey, ManagementToken and the PostgreSQL connection (design,
 * "What workers receive"). ARVADOS_API_TOKEN is SystemRootToken: crunch-run must update the
 * container with the token that locked it.
 */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <mbedtls/md.h>

#include "rfc3339.h"
#include "util.h"

char *
pool_prices_json(const struct pool_worker *w)
{
	cJSON *a = cJSON_CreateArray();
	char *s = NULL, t[48];

	for (size_t i = 0; a && i < w->n_prices; i++) {
		cJSON *o = cJSON_CreateObject();

		rfc3339_format(w->prices[i].start_time, 0, t, sizeof(t));
		if (!o || !cJSON_AddStringToObject(o, "StartTime", t) ||
		    !cJSON_AddNumberToObject(o, "Price", w->prices[i].price)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, o);
	}
	if (a)
		s = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return s;
}

static const char *
pool_gpu_stack(enum cfg_gpu_stack s)
{
	return s == CFG_GPU_CUDA ? "cuda" : s == CFG_GPU_ROCM ? "rocm" : "";
}

cJSON *
pool_itype_json(const struct cfg_instance_type *it)
{
	cJSON *o = cJSON_CreateObject(), *g = cJSON_CreateObject();

	if (!o || !g) {
		cJSON_Delete(o);
		cJSON_Delete(g);
		return NULL;
	}
	cJSON_AddStringToObject(o, "ProviderType", it->provider_type);
	cJSON_AddNumberToObject(o, "VCPUs", (double)it->vcpus);
	cJSON_AddNumberToObject(o, "RAM", (double)it->ram);
	cJSON_AddNumberToObject(o, "IncludedScratch", (double)it->included_scratch);
	cJSON_AddNumberToObject(o, "AddedScratch", (double)it->added_scratch);
	cJSON_AddNumberToObject(o, "Price", it->price);
	cJSON_AddBoolToObject(o, "Preemptible", it->preemptible);
	cJSON_AddStringToObject(g, "Stack", pool_gpu_stack(it->gpu.stack));
	cJSON_AddStringToObject(g, "DriverVersion",
				it->gpu.driver_version ? it->gpu.driver_version : "");
	cJSON_AddStringToObject(g, "HardwareTarget",
				it->gpu.hardware_target ? it->gpu.hardware_target : "");
	cJSON_AddNumberToObject(g, "DeviceCount", (double)it->gpu.device_count);
	cJSON_AddNumberToObject(g, "VRAM", (double)it->gpu.vram);
	cJSON_AddItemToObject(o, "GPU", g);
	return o;
}

/* cJSON indents with tabs and writes ":\t"; Go's MarshalIndent(v, "", "    ") writes four
 * spaces and ": ". Raw tabs occur only as formatting (cJSON escapes them in strings). */
static char *
pool_go_indent(const char *in)
{
	size_t n = 0;
	char *out;

	for (const char *c = in; *c; c++)
		n += *c == '\t' ? 4 : 1;
	if (!(out = malloc(n + 2)))
		return NULL;
	char *o = out;

	for (const char *c = in; *c; c++) {
		if (*c != '\t') {
			*o++ = *c;
		} else if (c > in && c[-1] == ':') {
			*o++ = ' ';
		} else {
			memcpy(o, "    ", 4);
			o += 4;
		}
	}
	*o++ = '\n';
	*o = 0;
	return out;
}

/* host:port of the controller, as Go's URL.Host ("" when unparseable). */
static void
pool_api_host(const char *url, char *buf, size_t len)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	buf[0] = 0;
	if (u && url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			snprintf(buf, len, "%s:%s", host, port);
		else
			snprintf(buf, len, "%s", host);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* The instance's host (port stripped, IPv6 in brackets) with port 0. */
void
pool_gateway_address(const char *addr, char *buf, size_t len)
{
	const char *colon = strchr(addr, ':');

	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		int n = end ? (int)(end - addr + 1) : (int)strlen(addr);

		snprintf(buf, len, "%.*s:0", n, addr);
	} else if (colon && strchr(colon + 1, ':')) {
		snprintf(buf, len, "[%s]:0", addr); /* bare IPv6 */
	} else if (colon) {
		snprintf(buf, len, "%.*s:0", (int)(colon - addr), addr);
	} else {
		snprintf(buf, len, "%s:0", addr);
	}
}

/* Lowercase hex HMAC-SHA256(key = SystemRootToken, uuid). */
static int
pool_gateway_secret(const char *token, const char *uuid, char out[65])
{
	unsigned char mac[32];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	if (!md || mbedtls_md_hmac(md, (const unsigned char *)token, strlen(token),
				   (const unsigned char *)uuid, strlen(uuid), mac) != 0)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

static cJSON *
pool_env_json(const struct pool *p, const struct pool_worker *w, const char *uuid)
{
	const struct cfg_cluster *cl = p->cl;
	cJSON *env = cJSON_CreateObject(), *itj;
	char host[512], gw[128], secret[65];
	char *itext = NULL, *raw = NULL;

	if (!env)
		return NULL;
	pool_api_host(cl->controller_external_url, host, sizeof(host));
	pool_gateway_address(w->address ? w->address : "", gw, sizeof(gw));
	cJSON_AddStringToObject(env, "ARVADOS_API_HOST", host);
	cJSON_AddStringToObject(env, "ARVADOS_API_TOKEN",
				cl->system_root_token ? cl->system_root_token : "");
	if (cl->tls_insecure)
		cJSON_AddStringToObject(env, "ARVADOS_API_HOST_INSECURE", "1");
	if (w->type_known && (itj = pool_itype_json(pool_itype(p, w)))) {
		raw = cJSON_Print(itj);
		itext = raw ? pool_go_indent(raw) : NULL;
		cJSON_Delete(itj);
	}
	cJSON_AddStringToObject(env, "InstanceType", itext ? itext : "{}\n");
	free(raw);
	free(itext);
	cJSON_AddStringToObject(env, "GatewayAddress", gw);
	if (pool_gateway_secret(cl->system_root_token ? cl->system_root_token : "", uuid, secret) ==
	    0)
		cJSON_AddStringToObject(env, "GatewayAuthSecret", secret);
	adc_wipe(secret, sizeof(secret));
	return env;
}

/* The --stdin-config JSON; malloc'd (holds the token: free with adc_free_secret_str). */
char *
pool_start_payload(const struct pool *p, const struct pool_worker *w, const char *uuid,
		   int64_t keep_buffers)
{
	const struct cfg_instance_type *it = pool_itype(p, w);
	int64_t per = p->cl->containers.local_keep_blob_buffers_per_vcpu;
	cJSON *o = cJSON_CreateObject(), *env = pool_env_json(p, w, uuid), *cluster = NULL;
	char *s = NULL;

	if (keep_buffers < 0)
		keep_buffers = per > 0 && it ? per * it->vcpus : 0;
	/* Spliced in as it is: the config loader printed it with cJSON_PrintUnformatted, which
	 * is what a parse and a print here gave, at a parse of the whole cluster config per
	 * container started (issue 16: 6% of dispatcherd's CPU at 140 containers/s). */
	if (per > 0 && p->cl->worker_cluster_json)
		cluster = cJSON_CreateRaw(p->cl->worker_cluster_json);
	if (o && env) {
		const char *drv = p->vm->driver ? p->vm->driver : "";

		cJSON_AddItemToObject(o, "Env", env);
		env = NULL;
		cJSON_AddNumberToObject(o, "KeepBuffers", (double)keep_buffers);
		cJSON_AddBoolToObject(o, "EC2SpotCheck",
				      strcmp(drv, "ec2") == 0 && it && it->preemptible);
		if (cluster) {
			cJSON_AddItemToObject(o, "Cluster", cluster);
			cluster = NULL;
		} else {
			cJSON_AddNullToObject(o, "Cluster");
		}
		s = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(env);
	cJSON_Delete(cluster);
	cJSON_Delete(o);
	return s;
}
