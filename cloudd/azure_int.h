/* azure_int.h - internal state shared by the Azure driver's files (not for other modules). */
#ifndef ADC_AZURE_INT_H
#define ADC_AZURE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "azure.h"
#include "curl_body.h"
#include "drv.h"

#define AZ_API_COMPUTE "2019-07-01"
#define AZ_API_NETWORK "2018-06-01"

/* ---- azure_params.c: DriverParameters (3.1) ---- */
struct azure_params {
	char *subscription, *client_id, *client_secret, *tenant; /* secret: wiped on free */
	char *cloud_env;
	char *location, *resource_group, *network_rg, *network, *subnet, *image_rg;
	char *gallery, *gallery_version;
	char *storage_account, *blob_container;
	char *admin_user;
	int64_t dangling_after_s;
};
/* 0, or -EINVAL with a message naming the key in err, or -ENOMEM. */
int azure_params_parse(const cJSON *j, struct azure_params *p, char *err, size_t errlen);
void azure_params_free(struct azure_params *p);

/* ---- environments (3.2) ---- */
struct azure_env {
	char aad[256];	    /* https://login.microsoftonline.com/ (ends with '/') */
	char arm[256];	    /* https://management.azure.com (no trailing '/') */
	char resource[256]; /* the token's resource (audience) */
	char storage_suffix[128];
	char blob_endpoint[256]; /* environment file's storageBlobEndpoint (tests: Azurite, path
				  * style, "http://127.0.0.1:P/<account>"); "" when absent */
};
/* Named environment (case-insensitive), or AzureStackCloud from env_json (the environment
 * file's contents). 0 or -EINVAL with the reason in err. */
int azure_env_resolve(const char *name, const char *env_json, struct azure_env *e, char *err,
		      size_t errlen);

/* ---- azure_json.c: decoding ARM and AAD answers (untrusted; fuzzed) ---- */
struct azure_token {
	char *access;	    /* secret */
	int64_t expires_on; /* seconds since the epoch */
};
/* 0, or -EINVAL with a reason (no secret) in err. now: wall clock seconds. */
int azure_token_parse(const char *body, size_t len, int64_t now, struct azure_token *t, char *err,
		      size_t errlen);
void azure_token_free(struct azure_token *t);
/* {"error":{"code","message"}} (ARM) or {"error":"...","error_description":"..."} (AAD):
 * 0 with code and message filled, -1 when the body has neither. */
int azure_error_parse(const char *body, size_t len, char *code, size_t codelen, char *msg,
		      size_t msglen);
/* Async operation status: "InProgress", "Succeeded", "Failed", "Canceled" (copied into
 * status), and the error's code/message when failed. 0 or -EINVAL. */
int azure_async_parse(const char *body, size_t len, char *status, size_t slen, char *code,
		      size_t codelen, char *msg, size_t msglen);
/* A list page: the value array (detached: caller frees) and nextLink (malloc'd or NULL). */
int azure_page_parse(const char *body, size_t len, cJSON **items, char **next_link);

struct azure_nic {
	const char *id, *name, *ip, *vm_id, *created_at, *state; /* point into the cJSON */
};
struct azure_vm {
	const char *id, *name, *size, *nic_id, *state, *location;
	const cJSON *tags; /* object or NULL */
	const char *priority;
};
/* 0 or -EINVAL (no id/name). Strings NULL when absent. */
int azure_nic_read(const cJSON *nic, struct azure_nic *out);
int azure_vm_read(const cJSON *vm, struct azure_vm *out);
/* A 409 answer of code MissingSubscriptionRegistration: the namespace it names in
 * error.details[0].target (as the Go SDK reads it; letters, digits and dots only, since it goes
 * into a URL) into ns. 0, or -1 when the body is not that. */
int azure_missing_registration(const char *body, size_t len, char *ns, size_t nslen);
/* RFC 3339 with any fraction and offset to seconds since the epoch; 0 or -EINVAL. */
int azure_parse_rfc3339(const char *s, int64_t *out);
/* Retry-After: seconds or an HTTP-date, to an absolute wall-clock ms; -1 when unparsable. */
int64_t azure_retry_after_ms(const char *v, int64_t now_ms);
/* Is code an allocation/capacity failure of the VM size (beyond the reference, 3.7)? */
bool azure_capacity_code(const char *code);
/* Does code or message match /exceed|quota|limit/i (3.7 step 2)? */
bool azure_quota_text(const char *code, const char *msg);

/* ---- azure_blob.c: SharedKey for the Blob service ---- */
/* The string to sign of a bodiless request with headers x-ms-date and x-ms-version only;
 * path is the URL path as sent (path-style endpoints include the account), query the raw
 * query string (NULL: none). *out malloc'd. 0 or -ENOMEM. */
int azure_blob_string_to_sign(const char *account, const char *verb, const char *path,
			      const char *query, const char *xms_date, const char *xms_version,
			      char **out);
/* "SharedKey <account>:<base64 HMAC-SHA256>" into auth. 0, -EINVAL (key not base64), -ENOSPC. */
int azure_blob_sign(const char *account, const char *key_b64, const char *verb, const char *path,
		    const char *query, const char *xms_date, const char *xms_version, char *auth,
		    size_t authlen);

/* ---- azure_http.c: token, one ARM request, long-running operations ---- */
struct azure_driver;
struct az_result {
	long status;	      /* final HTTP status (0: none) */
	const cJSON *doc;     /* final resource or answer JSON (may be NULL) */
	struct drv_error err; /* cls DRV_OK on success */
};
typedef void (*az_cb)(void *arg, const struct az_result *r);

enum az_flags {
	AZ_LRO = 1,	     /* wait for the long-running operation to finish */
	AZ_OK_404 = 2,	     /* 404 counts as success (deletes) */
	AZ_FINAL_GET = 4,    /* after an LRO, GET the resource for the final state */
	AZ_NO_CLASSIFY = 8,  /* errors stay DRV_ERR_OTHER */
	AZ_NO_REGISTER = 16, /* a 409 MissingSubscriptionRegistration is only an error */
};
/* method "GET"/"PUT"/"DELETE"; url absolute (https://.../subscriptions/...?api-version=);
 * body NULL or JSON text (copied). what: "VM PUT" etc. for error texts. spot/itype: for
 * capacity errors. cb exactly once, never from inside. 0 or -ENOMEM. */
int az_call(struct azure_driver *d, const char *method, const char *url, const char *body,
	    int flags, const char *what, const struct drv_itype *itype, az_cb cb, void *arg);
/* Classify an ARM error (3.7 plus capacity codes); fills e->cls and the retry time. */
void az_classify(struct drv_error *e, long status, const char *retry_after, const char *code,
		 const char *msg, const struct drv_itype *itype);
/* Defer cb(arg, err) to the loop. 0 or -ENOMEM. */
int az_fail_later(struct azure_driver *d, const struct drv_error *err, az_cb cb, void *arg);

/* ---- the driver ---- */
struct azure_driver {
	struct drv drv;
	uv_loop_t *loop;
	struct azure_params p;
	struct azure_env env;
	char prefix[128]; /* compute-<InstanceSetID>- */
	char *set_id;
	struct cu *cu;
	uint8_t *ca;
	size_t ca_len;
	long connect_ms, total_ms, lro_ms, poll_default_ms;
	size_t max_body;
	/* token */
	struct azure_token tok;
	bool tok_fetching;
	struct az_req *tok_waiters;
	struct azure_stats stats;
	size_t active;	     /* az_call operations in flight */
	size_t ops;	     /* driver operations in flight */
	char **nic_deleting; /* dangling NIC deletes in flight (names) */
	size_t n_nic_deleting;
	char blob_base[300]; /* https://<account>.blob.<suffix>, or blob_endpoint; "" when off */
	char *blob_key;	     /* storage account key from listKeys (secret) */
	size_t blob_gc_inflight;
	uint64_t blobs_deleted;
	struct az_reg *regs;  /* resource provider registrations (azure_register.c) */
	uv_timer_t *gc_timer; /* managed-disk GC (3.8); NULL when off */
	size_t gc_inflight;   /* disk lists and deletes in flight */
	uint64_t disks_deleted;
};

/* ---- azure_driver.c: the driver object, resource URLs and names, instances ---- */
/* URL helpers: base ARM URL of a resource in rg, with api-version. */
int az_res_url(struct azure_driver *d, char *buf, size_t len, const char *rg, const char *prov,
	       const char *kind, const char *name, const char *api);
int64_t az_now_ms(void);
/* The Azure driver of a struct drv. */
struct azure_driver *az_d(struct drv *d);
/* The VM name of an id of our resource group, or NULL when it is not one. */
const char *az_vm_name_of(struct azure_driver *d, const char *id);
/* Does name start with our prefix (compute-<InstanceSetID>-)? */
bool az_has_prefix(struct azure_driver *d, const char *name);
/* The drv_instance of VM v with private address ip (NULL: none). 0 or -ENOMEM. */
int az_inst_from_vm(const struct azure_vm *v, const char *ip, struct drv_instance *o);
/* Does instance i carry every tag of filter? */
bool az_tags_match(const struct drv_instance *i, const struct drv_tags *filter);

/* ---- the struct drv operations, one file each ---- */
/* azure_create.c: Create (3.5), the NIC then the VM. */
int az_create(struct drv *dd, const struct drv_itype *t, const char *image_id,
	      const struct drv_tags *tags, const char *init_command, const char *public_key,
	      drv_create_cb cb, void *arg);
/* azure_list.c: Instances (3.6), VM pages joined to NIC pages. */
int az_list(struct drv *dd, const struct drv_tags *filter, drv_page_cb page, drv_done_cb done,
	    void *arg);
/* azure_destroy.c: Destroy of the instances ids (VM, NIC, OS disk or VHD). */
int az_destroy(struct drv *dd, const char *const *ids, size_t n, drv_destroy_cb cb, void *arg);
/* azure_destroy.c: SetTags of instance id (merged into the VM's tags). */
int
az_set_tags(struct drv *dd, const char *id, const struct drv_tags *tags, drv_done_cb cb, void *arg);

/* ---- azure_dangling.c: dangling-resource clean-up (3.8) ---- */
/* A NIC of ours with no VM, older than DeleteDanglingResourcesAfter: delete it, at most
 * AZ_MAX_NIC_DELETES at a time, never twice at once. */
void az_maybe_delete_nic(struct azure_driver *d, const struct azure_nic *n);
/* The managed-disk GC timer's callback: one GC pass per tick. */
void az_gc_tick(uv_timer_t *t);
/* Close callback of the GC timer: frees it. */
void az_gc_closed(uv_handle_t *h);

/* ---- azure_register.c: resource provider registration (the Go SDK's, 3.3) ---- */
typedef void (*az_reg_cb)(void *arg, const struct drv_error *err);
/* body: a 409 answer to the request `what`. When it is MissingSubscriptionRegistration for a
 * namespace: registers it (or joins the registration in flight; at once when this process
 * registered it already) and returns 0; cb(arg, NULL) then means "send the request again",
 * cb(arg, err) that registration failed (err->text names it). -1: not such an answer. */
int az_register_after(struct azure_driver *d, const char *body, size_t len, const char *what,
		      az_reg_cb cb, void *arg);
/* At the driver's free: the registrations' timers and memory. */
void az_regs_free(struct azure_driver *d);

/* ---- azure_vhd.c: unmanaged VHD images (storage account key, blob calls, blob GC) ---- */
typedef void (*az_blob_cb)(void *arg, long status, const char *body, size_t len,
			   const struct drv_error *err);
/* Gets the account key (listKeys) unless known; cb(arg, r) with r->err. 0 or -ENOMEM. */
int az_storage_key(struct azure_driver *d, az_cb cb, void *arg);
/* A SharedKey-signed blob request; suffix "/<container>[/<blob>]", query raw or NULL. */
int az_blob(struct azure_driver *d, const char *method, const char *suffix, const char *query,
	    az_blob_cb cb, void *arg);
/* The VHD URL of VM name: <blob base>/<container>/<name>-os.vhd. */
int az_vhd_url(struct azure_driver *d, const char *name, char *buf, size_t len);
/* One blob GC pass (3.8). */
void az_blob_gc(struct azure_driver *d);
struct ec2_xnode;
/* The GC's choice for one <Blob> of a list answer: its name if it is to be deleted, else NULL
 * (tests/azure/fuzz_azure_blob.c). */
const char *azure_blob_collectable(const struct ec2_xnode *b, const char *prefix, int64_t now_s,
				   int64_t after_s);

#endif
