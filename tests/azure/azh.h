/* azh.h - the Azure driver against tests/fake_azure: start the fake (tests/ec2's harness
 * starts the process and makes the test CA), build a driver pointed at it through an
 * AzureStackCloud environment file, read the fake's state and request log. */
#ifndef AZURE_TEST_AZH_H
#define AZURE_TEST_AZH_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "azure.h"
#include "drv.h"
#include "harness.h"

#define AZH_SET_ID "zzzzz-dz642-azuretest000001"
#define AZH_INIT                                                              \
	"umask 0177 && echo -n \"0123456789abcdef0123456789abcdef01234567\" " \
	">/var/run/arvados-instance-secret"

struct azh {
	struct fake f;
	uv_loop_t loop;
	char envfile[320];
};

/* gc_interval_ms of the drivers azh_driver builds (default -1: no disk GC). */
extern long azh_gc_interval_ms;

/* Starts the fake with extra args (NULL-terminated, may be NULL). 0 or -1. */
int azh_start(struct azh *h, const char *const *args);
void azh_stop(struct azh *h);
/* DriverParameters for the fake, with extra JSON members merged in (extra_json may be NULL). */
cJSON *azh_params(struct azh *h, const char *extra_json);
/* A driver for the fake; NULL with the reason printed. */
struct drv *azh_driver(struct azh *h, const char *extra_json);
int azh_create(struct azh *h, struct drv *d, const struct drv_itype *t, const char *image,
	       const struct drv_tags *tags, const char *pubkey, struct op_result *r);
/* The fake's state: {"vms":[...],"nics":[...],"disks":[...],"tokens_issued":N}. */
cJSON *azh_state(struct azh *h);
/* Requests logged by the fake (array, caller frees the returned root). */
cJSON *azh_requests(struct azh *h, cJSON **root);
/* Requests matching method and a path substring (NULL: any). */
int azh_count(struct azh *h, const char *method, const char *path_part);
int azh_fault(struct azh *h, const char *json);
/* Requests the fake logged under its operation name op ("vm_put", "provider_register", ...). */
int azh_count_op(struct azh *h, const char *op);

/* The shared pieces of the test programs. A cmocka setup: resets the fake azh_start started
 * last (one per test program). */
int azh_reset(void **st);
/* The tags a dispatcher's create carries: instance set, type, secret. */
struct drv_tags azh_tags(void);
/* A timer callback doing nothing: a repeating timer keeps uv_run(ONCE) waking up. */
void azh_keep_alive(uv_timer_t *t);
/* Starts a create without waiting (r is filled when it ends; azh_wait waits). */
int azh_create_start(struct drv *d, const struct drv_itype *t, const char *image,
		     const struct drv_tags *tags, const char *pubkey, struct op_result *r);
void azh_wait(struct azh *h, struct op_result *r);

#endif
