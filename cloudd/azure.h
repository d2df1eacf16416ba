/*
 * azure.h - the Azure driver (spec cloud-drivers.md section 3) behind struct drv (drv.h).
 *
 * ARM (Compute 2019-07-01, Network 2018-06-01) with an AAD v1 client-credentials token,
 * fetched lazily and refreshed 5 minutes before it expires. Endpoints come from
 * CloudEnvironment; AzureStackCloud reads them from the JSON environment file
 * (AZURE_ENVIRONMENT_FILEPATH, as the reference does; tests point it at tests/fake_azure).
 * Unlike the reference, ARM calls go to the environment's own resourceManagerEndpoint.
 *
 * Construction reads the environment file and the CA bundle, so it runs before the sandbox
 * (or is handed their contents); afterwards the driver needs only the network.
 */
#ifndef ADC_AZURE_H
#define ADC_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "drv.h"

struct azure_driver_opts {
	const char *instance_set_id; /* required: the name prefix is compute-<id>- */
	const char *env_file;	     /* AzureStackCloud: NULL -> AZURE_ENVIRONMENT_FILEPATH */
	const char *env_json;	     /* the environment file's contents, read before the
				      * sandbox; wins over env_file */
	const char *ca_file;	     /* NULL: the system store */
	const uint8_t *ca_pem;	     /* CA bundle already in memory; wins over ca_file */
	size_t ca_pem_len;
	long gc_interval_ms;	 /* managed-disk garbage collection; 0: 5 min; <0: off */
	long connect_timeout_ms; /* 0: 30 s */
	long timeout_ms;	 /* each HTTP request; 0: 5 min */
	long lro_timeout_ms;	 /* waiting for one long-running operation; 0: 15 min */
	long poll_default_ms;	 /* poll delay when the answer has no Retry-After; 0: 10 s */
	size_t max_body;	 /* largest answer accepted; 0: 64 MiB */
};

/* 0 and *out; or negative errno with the reason in err (never a secret). */
int azure_driver_new(uv_loop_t *loop, const cJSON *driver_params, const struct azure_driver_opts *o,
		     struct drv **out, char *err, size_t errlen);
/* Calls in flight (free the driver only at 0). */
size_t azure_driver_active(struct drv *d);
/* Requests sent so far (token, ARM), for tests and the closing note's figures. */
struct azure_stats {
	uint64_t token_requests, arm_requests, polls;
	uint64_t disks_deleted; /* by the garbage collection */
	uint64_t blobs_deleted; /* VHD blobs, by the garbage collection */
};
void azure_driver_stats(struct drv *d, struct azure_stats *out);

/* What cloudd reads before the sandbox for this driver: the AzureStackCloud environment file
 * (AZURE_ENVIRONMENT_FILEPATH) and a CA bundle (SSL_CERT_FILE, as Go's TLS honours it), each
 * only when its variable is set. 0, or -1 with the reason (naming the file) in err. */
struct azure_preload {
	char *env_json;
	uint8_t *ca_pem;
	size_t ca_pem_len;
};
int azure_preload(struct azure_preload *p, char *err, size_t errlen);
void azure_preload_free(struct azure_preload *p);

/*
 * Checks Azure DriverParameters as config-check would: exactly one of the two gallery keys
 * set, exactly one of StorageAccount/BlobContainer set, an unknown CloudEnvironment, a key
 * of the wrong type, a bad duration, missing credentials. 0 when fine; else -1 with a message
 * naming the key in msg. (For config-check's driver validation, owned elsewhere.)
 */
int azure_params_check(const cJSON *driver_params, char *msg, size_t msglen);

#endif
