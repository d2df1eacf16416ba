/* cloudd.h - cloudd's state: the driver, its (secret) parameters, the instance set. */
#ifndef ADC_CLOUDD_H
#define ADC_CLOUDD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "azure.h"
#include "drv.h"
#include "proto.h"
#include "proto_chan.h"

struct cloudd {
	char driver[16]; /* ec2, azure, loopback */
	uv_loop_t *loop;
	cJSON *params; /* DriverParameters; secret (cJSON frees wipe, see cloudd.c) */
	cJSON *env;    /* "Env" of the secret blob: AWS_* moved from the parent */
	char *instance_set_id;
	char *tag_key_prefix;
	bool initialised;
	struct drv *drv;
	size_t inflight;   /* driver operations not yet answered */
	bool trim_pending; /* a list was answered: malloc_trim at the next request */
	uint8_t *ca_pem;   /* AWS_CA_BUNDLE, read before the sandbox */
	size_t ca_pem_len;
	char private_dir[256];		/* loopback: sshd's files (created before the sandbox) */
	bool private_dir_made;		/* we created it: remove it at teardown */
	char user[64];			/* loopback: the OS user sshd runs as (the remote user) */
	struct azure_preload azure_pre; /* azure: environment file and CA, read before the sandbox */
	uint64_t *starts_sent;		/* ec2: per subnet, RunInstances ok/fail already reported
				       * to the parent (2 per subnet; CLOUD_STATS sends deltas) */
};

/* Check the driver name and prepare what must be loaded before the sandbox: the CA bundle
 * (ec2), the private directory and the user name (loopback). 0 or -1 (logged). */
int cloudd_setup(struct cloudd *cd, uv_loop_t *loop, const char *driver);
int cloudd_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg);
/* One handler per cloud verb (cloudd_verbs.c); answers carry the request's reqid. */
void cloudd_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg);
void cloudd_teardown(struct cloudd *cd);

#endif
