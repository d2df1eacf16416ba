/*
 * azure_vhd.c - unmanaged VHD images (deprecated in Azure, still in the seeds): the storage
 * account key (listKeys, Storage 2018-02-01), SharedKey-signed blob calls (x-ms-version
 * 2018-03-28) and the blob garbage collection of 3.8. The listing's XML goes through the
 * bounded expat tree of ec2_xml (no parser of our own).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "azure_int.h"
#include "ec2_xml.h"
#include "log.h"
#include "util.h"

#define AZ_BLOB_VERSION "2018-03-28"

struct az_keyreq {
	az_cb cb;
	void *arg;
	struct azure_driver *d;
};

static void
az_on_keys(void *arg, const struct az_result *r)
{
	struct az_keyreq *k = arg;
	struct azure_driver *d = k->d;
	struct az_result out = *r;
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(r->doc, "keys");
	const char *v = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(keys, 0), "value"));

	if (r->err.cls == DRV_OK && (!v || !*v))
		drv_error_set(&out.err, DRV_ERR_OTHER,
			      "Couldn't get account keys: the listKeys answer has no key");
	else if (r->err.cls != DRV_OK) {
		char t[sizeof(out.err.text)];

		snprintf(t, sizeof(t), "Couldn't get account keys: %.400s", r->err.text);
		snprintf(out.err.text, sizeof(out.err.text), "%s", t);
	} else if (!d->blob_key && !(d->blob_key = strdup(v)))
		drv_error_set(&out.err, DRV_ERR_OTHER, "out of memory");
	out.doc = NULL;
	k->cb(k->arg, &out);
	free(k);
}

int
az_storage_key(struct azure_driver *d, az_cb cb, void *arg)
{
	struct az_keyreq *k;
	char url[1024];
	struct drv_error ok = { .cls = DRV_OK };

	if (d->blob_key)
		return az_fail_later(d, &ok, cb, arg); /* "later" with no error */
	k = malloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->cb = cb;
	k->arg = arg;
	k->d = d;
	char *a = curl_easy_escape(NULL, d->p.storage_account, 0);
	int r = az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Storage",
			   "storageAccounts", a ? a : "", "2018-02-01");

	curl_free(a);
	if (r == 0) {
		/* .../storageAccounts/<a>?api-version= -> .../storageAccounts/<a>/listKeys?api-version= */
		char *q = strchr(url, '?'), tail[64];

		snprintf(tail, sizeof(tail), "%s", q);
		if ((size_t)(q - url) + strlen("/listKeys") + strlen(tail) < sizeof(url))
			sprintf(q, "/listKeys%s", tail);
		else
			r = -ENOSPC;
	}
	if (r < 0 ||
	    az_call(d, "POST", url, NULL, 0, "storage listKeys", NULL, az_on_keys, k) < 0) {
		free(k);
		return -ENOMEM;
	}
	return 0;
}

int
az_vhd_url(struct azure_driver *d, const char *name, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s/%s-os.vhd", d->blob_base, d->p.blob_container,
				name) >= len
		       ? -ENOSPC
		       : 0;
}

struct az_blobreq {
	az_blob_cb cb;
	void *arg;
	struct azure_driver *d;
};

static void
az_on_blob(void *arg, const struct cu_result *res)
{
	struct az_blobreq *b = arg;
	struct drv_error e;

	memset(&e, 0, sizeof(e));
	b->d->active--;
	if (res->curl_code != 0)
		drv_error_set(&e, DRV_ERR_OTHER, "blob: request failed: %s", res->error);
	else if (res->http_status >= 400 && res->http_status != 404)
		drv_error_set(&e, DRV_ERR_OTHER, "blob: HTTP %ld: %.300s", res->http_status,
			      res->body);
	e.http_status = (int)res->http_status;
	b->cb(b->arg, res->http_status, res->body, res->body_len, &e);
	free(b);
}

int
az_blob(struct azure_driver *d, const char *method, const char *suffix, const char *query,
	az_blob_cb cb, void *arg)
{
	char url[2048], date[64], auth[200], h[300];
	const char *path;
	struct az_blobreq *b;
	struct curl_slist *hl = NULL, *t;
	CURL *e;
	time_t now = time(NULL);
	struct tm tm;
	int ok = 1;

	if (!d->blob_key)
		return -EINVAL;
	if ((size_t)snprintf(url, sizeof(url), "%s%s%s%s", d->blob_base, suffix, query ? "?" : "",
			     query ? query : "") >= sizeof(url))
		return -ENOSPC;
	path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	if (!path)
		return -EINVAL;
	char upath[2048];

	snprintf(upath, sizeof(upath), "%.*s", (int)strcspn(path, "?"), path);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (azure_blob_sign(d->p.storage_account, d->blob_key, method, upath, query, date,
			    AZ_BLOB_VERSION, auth, sizeof(auth)) < 0)
		return -EINVAL;
	if (!(b = calloc(1, sizeof(*b))) || !(e = curl_easy_init())) {
		free(b);
		return -ENOMEM;
	}
#define AZ_BH(...)                                        \
	do {                                              \
		snprintf(h, sizeof(h), __VA_ARGS__);      \
		if (ok && (t = curl_slist_append(hl, h))) \
			hl = t;                           \
		else                                      \
			ok = 0;                           \
	} while (0)
	AZ_BH("x-ms-date: %s", date);
	AZ_BH("x-ms-version: %s", AZ_BLOB_VERSION);
	AZ_BH("Authorization: %s", auth);
	AZ_BH("Expect:");
#undef AZ_BH
	adc_wipe(h, sizeof(h));
	adc_wipe(auth, sizeof(auth));
	if (!ok) {
		curl_slist_free_all(hl);
		curl_easy_cleanup(e);
		free(b);
		return -ENOMEM;
	}
	b->cb = cb;
	b->arg = arg;
	b->d = d;
	curl_easy_setopt(e, CURLOPT_URL, url);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, d->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, d->total_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (d->ca) {
		struct curl_blob cb2 = { .data = d->ca, .len = d->ca_len, .flags = CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &cb2);
	}
	d->active++;
	if (cu_start(d->cu, e, hl, d->max_body, az_on_blob, b) < 0) {
		d->active--;
		free(b);
		return -ENOMEM;
	}
	return 0;
}

/* ---- blob GC ---- */

struct az_bgc {
	struct azure_driver *d;
	char name[256];
};

static void
az_bgc_deleted(void *arg, long status, const char *body, size_t len, const struct drv_error *e)
{
	struct az_bgc *g = arg;

	(void)body;
	(void)len;
	(void)status;
	g->d->blob_gc_inflight--;
	if (e->text[0]) {
		log_kv(LOG_LVL_WARN, "Error deleting blob", LF_STR("blob", g->name),
		       LF_STR("error", e->text));
	} else {
		g->d->blobs_deleted++;
		log_kv(LOG_LVL_INFO, "Deleted blob", LF_STR("blob", g->name));
	}
	free(g);
}

/* The name of a blob of a blob list answer that the GC of 3.8 deletes: ours (prefix), a page
 * blob, unleased, last modified more than after_s before now_s, and a name safe to put in a
 * URL path; NULL for any other. The list comes from the storage endpoint: untrusted. */
const char *
azure_blob_collectable(const struct ec2_xnode *b, const char *prefix, int64_t now_s,
		       int64_t after_s)
{
	const char *name = ec2_xml_text(b, "Name");
	const char *lm = ec2_xml_text(b, "Properties/Last-Modified");
	const char *type = ec2_xml_text(b, "Properties/BlobType");
	const char *ls = ec2_xml_text(b, "Properties/LeaseStatus");
	const char *lst = ec2_xml_text(b, "Properties/LeaseState");
	time_t t;

	if (!name || strncmp(name, prefix, strlen(prefix)) != 0 || !type ||
	    strcmp(type, "PageBlob") != 0 || !ls || strcmp(ls, "unlocked") != 0 || !lst ||
	    strcmp(lst, "available") != 0 || !lm || (t = curl_getdate(lm, NULL)) <= 0 ||
	    now_s - (int64_t)t < after_s || strlen(name) > 200 || strpbrk(name, "?#% /"))
		return NULL;
	return name;
}

static void az_bgc_list(struct azure_driver *d, const char *marker);

static void
az_bgc_page(void *arg, long status, const char *body, size_t len, const struct drv_error *e)
{
	struct azure_driver *d = arg;
	struct ec2_xnode *root = NULL;
	const struct ec2_xnode *b;
	char perr[128], suffix[600];
	int64_t now = az_now_ms() / 1000;

	d->blob_gc_inflight--;
	if (e->text[0] || status != 200 ||
	    ec2_xml_parse(body, len, &root, perr, sizeof(perr)) < 0) {
		log_kv(LOG_LVL_WARN, "azure: blob list failed",
		       LF_STR("error", e->text[0] ? e->text : "the answer is not a blob list"));
		return;
	}
	for (b = ec2_xml_path(root, "Blobs/Blob"); b; b = ec2_xml_next(b)) {
		const char *name = azure_blob_collectable(b, d->prefix, now, d->p.dangling_after_s);
		struct az_bgc *g;

		if (!name)
			continue;
		if (!(g = calloc(1, sizeof(*g))))
			continue;
		g->d = d;
		snprintf(g->name, sizeof(g->name), "%s", name);
		snprintf(suffix, sizeof(suffix), "/%s/%s", d->p.blob_container, name);
		log_kv(LOG_LVL_INFO,
		       "Will delete blob because it is older than DeleteDanglingResourcesAfter",
		       LF_STR("blob", name));
		if (az_blob(d, "DELETE", suffix, NULL, az_bgc_deleted, g) < 0) {
			free(g);
			continue;
		}
		d->blob_gc_inflight++;
	}
	const char *next = ec2_xml_text(root, "NextMarker");

	if (next && *next)
		az_bgc_list(d, next);
	ec2_xml_free(root);
}

static void
az_bgc_list(struct azure_driver *d, const char *marker)
{
	char q[700], suffix[300], *p = curl_easy_escape(NULL, d->prefix, 0),
				  *m = marker ? curl_easy_escape(NULL, marker, 0) : NULL;

	if (p && (!marker || m)) {
		snprintf(q, sizeof(q), "restype=container&comp=list&prefix=%s%s%s", p,
			 m ? "&marker=" : "", m ? m : "");
		snprintf(suffix, sizeof(suffix), "/%s", d->p.blob_container);
		if (az_blob(d, "GET", suffix, q, az_bgc_page, d) == 0)
			d->blob_gc_inflight++;
	}
	curl_free(p);
	curl_free(m);
}

static void
az_bgc_keyed(void *arg, const struct az_result *r)
{
	struct azure_driver *d = arg;

	d->blob_gc_inflight--;
	if (r->err.cls != DRV_OK) {
		log_kv(LOG_LVL_WARN, "azure: blob GC", LF_STR("error", r->err.text));
		return;
	}
	az_bgc_list(d, NULL);
}

void
az_blob_gc(struct azure_driver *d)
{
	if (!d->blob_base[0] || d->blob_gc_inflight > 0)
		return;
	if (az_storage_key(d, az_bgc_keyed, d) == 0)
		d->blob_gc_inflight++;
}
