/*
 * azure_json.c - decoding AAD and ARM answers with cJSON (untrusted input: every field's type
 * is checked, sizes are bounded by the caller's max_body; fuzz target tests/azure/fuzz_azure_json.c),
 * and the error classes (az_classify) over the code tables.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "azure_int.h"
#include "util.h"

static const char *
az_jstr(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *
az_parse(const char *body, size_t len)
{
	return body && len ? cJSON_ParseWithLength(body, len) : NULL;
}

/* A number given as a JSON number or a decimal string (AAD sends strings). */
static int
az_jint(const cJSON *j, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	char *end;
	long long x;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15) {
		*out = (int64_t)v->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(v) || !isdigit((unsigned char)v->valuestring[0]))
		return -1;
	errno = 0;
	x = strtoll(v->valuestring, &end, 10);
	if (errno || *end || x < 0 || x > 1000000000000000LL)
		return -1;
	*out = x;
	return 0;
}

int
azure_token_parse(const char *body, size_t len, int64_t now, struct azure_token *t, char *err,
		  size_t errlen)
{
	cJSON *j = az_parse(body, len);
	const char *tok = az_jstr(j, "access_token"), *type = az_jstr(j, "token_type");
	int64_t on = 0, in = 0;
	int r = -EINVAL;

	memset(t, 0, sizeof(*t));
	if (!cJSON_IsObject(j))
		snprintf(err, errlen, "token answer is not a JSON object");
	else if (!tok || !*tok || strlen(tok) > 16384)
		snprintf(err, errlen, "token answer has no access_token");
	else if (type && strcasecmp(type, "Bearer") != 0)
		snprintf(err, errlen, "token answer has token_type %.40s, not Bearer", type);
	else if (az_jint(j, "expires_on", &on) < 0 && az_jint(j, "expires_in", &in) < 0)
		snprintf(err, errlen, "token answer has neither expires_on nor expires_in");
	else {
		if (on == 0)
			on = now + in;
		t->expires_on = on;
		t->access = strdup(tok);
		r = t->access ? 0 : -ENOMEM;
		if (r)
			snprintf(err, errlen, "out of memory");
	}
	if (tok)
		adc_wipe((char *)tok, strlen(tok));
	cJSON_Delete(j);
	return r;
}

void
azure_token_free(struct azure_token *t)
{
	adc_free_secret_str(t->access);
	memset(t, 0, sizeof(*t));
}

int
azure_error_parse(const char *body, size_t len, char *code, size_t codelen, char *msg,
		  size_t msglen)
{
	cJSON *j = az_parse(body, len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const char *c = NULL, *m = NULL;
	int r = -1;

	if (cJSON_IsObject(e)) {
		c = az_jstr(e, "code");
		m = az_jstr(e, "message");
	} else if (cJSON_IsString(e)) { /* AAD */
		c = e->valuestring;
		m = az_jstr(j, "error_description");
	}
	if (c || m) {
		snprintf(code, codelen, "%s", c ? c : "");
		snprintf(msg, msglen, "%s", m ? m : "");
		r = 0;
	}
	cJSON_Delete(j);
	return r;
}

/* A resource provider namespace: "Microsoft.Compute" and the like (it goes into a URL path). */
static bool
az_namespace_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 100 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.')
			return false;
	return true;
}

int
azure_missing_registration(const char *body, size_t len, char *ns, size_t nslen)
{
	cJSON *j = az_parse(body, len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "details"), 0);
	const char *code = az_jstr(e, "code"), *target = az_jstr(d0, "target");
	int r = -1;

	if (code && strcmp(code, "MissingSubscriptionRegistration") == 0 &&
	    az_namespace_ok(target) && strlen(target) < nslen) {
		snprintf(ns, nslen, "%s", target);
		r = 0;
	}
	cJSON_Delete(j);
	return r;
}

int
azure_async_parse(const char *body, size_t len, char *status, size_t slen, char *code,
		  size_t codelen, char *msg, size_t msglen)
{
	cJSON *j = az_parse(body, len);
	const char *s = az_jstr(j, "status");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	int r = -EINVAL;

	code[0] = msg[0] = 0;
	if (s && *s) {
		snprintf(status, slen, "%s", s);
		if (cJSON_IsObject(e)) {
			snprintf(code, codelen, "%s", az_jstr(e, "code") ? az_jstr(e, "code") : "");
			snprintf(msg, msglen, "%s",
				 az_jstr(e, "message") ? az_jstr(e, "message") : "");
		}
		r = 0;
	}
	cJSON_Delete(j);
	return r;
}

int
azure_page_parse(const char *body, size_t len, cJSON **items, char **next_link)
{
	cJSON *j = az_parse(body, len);
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(j, "value");
	const char *nl = az_jstr(j, "nextLink");

	*items = NULL;
	*next_link = NULL;
	if (!cJSON_IsObject(j) || !cJSON_IsArray(v)) {
		cJSON_Delete(v);
		cJSON_Delete(j);
		return -EINVAL;
	}
	if (nl && *nl && !(*next_link = strdup(nl))) {
		cJSON_Delete(v);
		cJSON_Delete(j);
		return -ENOMEM;
	}
	*items = v;
	cJSON_Delete(j);
	return 0;
}

static const cJSON *
az_jpath(const cJSON *j, const char *const *path)
{
	for (; j && *path; path++) {
		if (**path == '#')
			j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, 0) : NULL;
		else
			j = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, *path) : NULL;
	}
	return j;
}

static const char *
az_jpstr(const cJSON *j, const char *const *path)
{
	const cJSON *v = az_jpath(j, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
azure_nic_read(const cJSON *nic, struct azure_nic *o)
{
	static const char *const ip[] = { "properties", "ipConfigurations", "#",
					  "properties", "privateIPAddress", NULL };
	static const char *const vm[] = { "properties", "virtualMachine", "id", NULL };
	static const char *const ca[] = { "tags", "created-at", NULL };
	static const char *const st[] = { "properties", "provisioningState", NULL };

	memset(o, 0, sizeof(*o));
	if (!cJSON_IsObject(nic))
		return -EINVAL;
	o->id = az_jstr(nic, "id");
	o->name = az_jstr(nic, "name");
	o->ip = az_jpstr(nic, ip);
	o->vm_id = az_jpstr(nic, vm);
	o->created_at = az_jpstr(nic, ca);
	o->state = az_jpstr(nic, st);
	return o->id && o->name ? 0 : -EINVAL;
}

int
azure_vm_read(const cJSON *v, struct azure_vm *o)
{
	static const char *const size[] = { "properties", "hardwareProfile", "vmSize", NULL };
	static const char *const nic[] = {
		"properties", "networkProfile", "networkInterfaces", "#", "id", NULL
	};
	static const char *const st[] = { "properties", "provisioningState", NULL };
	static const char *const pr[] = { "properties", "priority", NULL };
	const cJSON *tags;

	memset(o, 0, sizeof(*o));
	if (!cJSON_IsObject(v))
		return -EINVAL;
	o->id = az_jstr(v, "id");
	o->name = az_jstr(v, "name");
	o->location = az_jstr(v, "location");
	o->size = az_jpstr(v, size);
	o->nic_id = az_jpstr(v, nic);
	o->state = az_jpstr(v, st);
	o->priority = az_jpstr(v, pr);
	tags = cJSON_GetObjectItemCaseSensitive(v, "tags");
	o->tags = cJSON_IsObject(tags) ? tags : NULL;
	return o->id && o->name ? 0 : -EINVAL;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
az_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int
azure_parse_rfc3339(const char *s, int64_t *out)
{
	int Y, M, D, h, m, sec, n = 0, oh = 0, om = 0;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) < 6 ||
	    n == 0)
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || Y < 1970)
		return -EINVAL;
	p = s + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -EINVAL;
		oh = (p[1] - '0') * 10 + (p[2] - '0');
		om = (p[4] - '0') * 10 + (p[5] - '0');
		oh *= sign;
		om *= sign;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*out = az_days(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - (oh * 3600 + om * 60);
	return 0;
}

int64_t
azure_retry_after_ms(const char *v, int64_t now_ms)
{
	char *end;
	double s;
	time_t t;

	if (!v)
		return -1;
	while (*v == ' ')
		v++;
	if (isdigit((unsigned char)*v)) {
		s = strtod(v, &end);
		while (*end == ' ')
			end++;
		if (*end == 0 && s >= 0 && s < 86400.0 * 365)
			return now_ms + (int64_t)(s * 1000);
	}
	t = curl_getdate(v, NULL);
	/* A date too far for ms since the epoch (a hostile "1 Oct 702822222") is no date: its
	 * product would overflow (found by tests/ec2/fuzz_http_headers.c). */
	return t > 0 && (int64_t)t <= INT64_MAX / 1000 ? (int64_t)t * 1000 : -1;
}

bool
azure_capacity_code(const char *code)
{
	static const char *const caps[] = {
		"AllocationFailed",
		"ZonalAllocationFailed",
		"SkuNotAvailable",
		"OverconstrainedAllocationRequest",
		"OverconstrainedZonalAllocationRequest",
		"AllocationFailedVMSizeNotAvailable",
	};

	for (size_t i = 0; code && i < sizeof(caps) / sizeof(*caps); i++)
		if (strcasecmp(code, caps[i]) == 0)
			return true;
	return false;
}

static bool
az_quota_words(const char *s)
{
	static const char *const w[] = { "exceed", "quota", "limit" };

	for (size_t i = 0; s && i < sizeof(w) / sizeof(*w); i++)
		if (strcasestr(s, w[i]))
			return true;
	return false;
}

bool
azure_quota_text(const char *code, const char *msg)
{
	return az_quota_words(code) || az_quota_words(msg);
}

/* The error classes of 3.7 with the capacity codes (declared with az_call in azure_int.h). */
void
az_classify(struct drv_error *e, long status, const char *retry_after, const char *code,
	    const char *msg, const struct drv_itype *it)
{
	int64_t now = az_now_ms(), t;

	e->http_status = (int)status;
	if (it) {
		snprintf(e->instance_type, sizeof(e->instance_type), "%s",
			 it->provider_type ? it->provider_type : it->name);
		e->spot = it->preemptible;
		snprintf(e->quota_group, sizeof(e->quota_group), "%s",
			 it->preemptible ? "spot" : "regular");
	}
	if (code && azure_capacity_code(code)) {
		e->cls = DRV_ERR_CAPACITY;
		e->type_specific = it != NULL;
	} else if (status == 429 || (retry_after && !azure_quota_text(code, msg))) {
		e->cls = DRV_ERR_RATE_LIMIT;
		t = azure_retry_after_ms(retry_after, now);
		e->earliest_retry_ms = t > now ? t : now + 20000;
	} else if (azure_quota_text(code, msg)) {
		e->cls = DRV_ERR_QUOTA;
	} else {
		e->cls = DRV_ERR_OTHER;
	}
}
