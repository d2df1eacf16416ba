/* drv_check.c - see drv_check.h. */
#include "drv_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "azure.h"
#include "ec2_params.h"

static int
drv_check_fail(enum drv_check_key *key, enum drv_check_key which, int r)
{
	if (key != NULL)
		*key = which;
	return r;
}

int
drv_params_check(const char *driver, const cJSON *params, char *err, size_t errlen,
		 enum drv_check_key *key)
{
	struct ec2_params p;
	int r;

	if (driver == NULL || *driver == '\0') {
		snprintf(err, errlen,
			 "no cloud driver configured (supported: ec2, azure, loopback)");
		return drv_check_fail(key, DRV_CHECK_DRIVER, -EINVAL);
	}
	if (strcmp(driver, "ec2") != 0 && strcmp(driver, "azure") != 0 &&
	    strcmp(driver, "loopback") != 0) {
		snprintf(err, errlen,
			 "unknown cloud driver \"%.64s\" (supported: ec2, azure, loopback)",
			 driver);
		return drv_check_fail(key, DRV_CHECK_DRIVER, -EINVAL);
	}
	if (params != NULL && strcmp(driver, "azure") == 0)
		return azure_params_check(params, err, errlen) == 0
			       ? 0
			       : drv_check_fail(key, DRV_CHECK_PARAMS, -EINVAL);
	if (params == NULL || strcmp(driver, "loopback") == 0)
		return 0; /* only the driver asked for; loopback takes no parameters */
	if ((r = ec2_params_parse(params, &p, err, errlen)) != 0)
		return drv_check_fail(key, DRV_CHECK_PARAMS, r);
	/* The same words as the EC2 client's own check (ec2_call.c). */
	if (p.region == NULL || p.region[0] == '\0') {
		snprintf(err, errlen, "EC2 driver: Region is required");
		r = -EINVAL;
	}
	ec2_params_free(&p);
	return r == 0 ? 0 : drv_check_fail(key, DRV_CHECK_PARAMS, r);
}
