/*
 * ec2_params.h - the EC2 DriverParameters (spec 2.1), decoded from the JSON the dispatcher
 * sends (every default key of every driver is present; unknown keys are ignored; key
 * matching is case-insensitive as Go's JSON decoder does).
 */
#ifndef ADC_EC2_PARAMS_H
#define ADC_EC2_PARAMS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "ec2_spot.h"

struct ec2_params {
	char *akid, *secret; /* secret: wiped on free */
	char *region;
	char **sgs;
	size_t n_sgs;
	char **subnets;
	size_t n_subnets;
	char *admin_user;
	char *ebs_type;
	double ebs_price;
	char *iam_profile;
	int64_t spot_interval_s; /* 0 disables spot price lookups */
	struct ec2_qg_entry *qg;
	size_t n_qg;
};

/* 0, or -EINVAL with a message in err (nothing to free then), or -ENOMEM. */
int ec2_params_parse(const cJSON *j, struct ec2_params *p, char *err, size_t errlen);
void ec2_params_free(struct ec2_params *p);

#endif
