/* cloudd.h - cloudd's state: the driver, its (secret) parameters, the instance set. */
#ifndef ADC_CLOUDD_H
#define ADC_CLOUDD_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "proto.h"
#include "proto_chan.h"

struct cloudd {
	char driver[16];              /* ec2, azure, loopback */
	cJSON *params;                /* DriverParameters; secret (cJSON frees wipe, see cloudd.c) */
	char *instance_set_id;
	char *tag_key_prefix;
	bool initialised;
};

/* Check the driver name and prepare what must be loaded before the sandbox. 0 or -1. */
int cloudd_setup(struct cloudd *cd, const char *driver);
int cloudd_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg);
void cloudd_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg);
void cloudd_teardown(struct cloudd *cd);

#endif
