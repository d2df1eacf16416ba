/* ec2_errors.c - the code tables of spec 2.6 and the backoff arithmetic. */
#include <stddef.h>
#include <string.h>

#include "ec2_errors.h"

static const char *const ec2_throttle_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
	NULL,
};

static const char *const ec2_quota_codes[] = {
	"InstanceLimitExceeded",
	"InsufficientAddressCapacity",
	"InsufficientFreeAddressesInSubnet",
	"InsufficientVolumeCapacity",
	"MaxSpotInstanceCountExceeded",
	NULL,
};

static bool
ec2_in(const char *const *set, const char *code)
{
	for (; *set; set++)
		if (strcmp(*set, code) == 0)
			return true;
	return false;
}

enum ec2_err_kind
ec2_err_kind(const char *code, const char *message)
{
	if (!code || !*code)
		return EC2_ERRK_OTHER;
	if (ec2_in(ec2_throttle_codes, code))
		return EC2_ERRK_THROTTLE;
	if (ec2_in(ec2_quota_codes, code))
		return EC2_ERRK_QUOTA;
	if (strcmp(code, "VcpuLimitExceeded") == 0)
		return EC2_ERRK_CAPACITY_GROUP;
	if (strcmp(code, "InsufficientInstanceCapacity") == 0 ||
	    (strcmp(code, "Unsupported") == 0 && message &&
	     strstr(message, "requested instance type")))
		return EC2_ERRK_CAPACITY_TYPE;
	return EC2_ERRK_OTHER;
}

bool
ec2_err_subnet_specific(const char *code, const char *message)
{
	if (!code || !*code)
		return false;
	if (strstr(code, "Subnet") || strcmp(code, "InsufficientInstanceCapacity") == 0 ||
	    strcmp(code, "InsufficientVolumeCapacity") == 0 || strcmp(code, "Unsupported") == 0)
		return true;
	if (strstr(code, "InvalidParameter") && message &&
	    (strstr(message, " subnet ") || strstr(message, "sufficient free Ipv4 addresses") ||
	     strstr(message, "sufficient free ipv4 addresses") ||
	     strstr(message, "sufficient free Ipv6 addresses") ||
	     strstr(message, "sufficient free ipv6 addresses")))
		return true;
	return false;
}

void
ec2_backoff_reset(struct ec2_backoff *b)
{
	if (b)
		b->d_ms = 0;
}

void
ec2_err_classify(struct drv_error *e, const char *message, struct ec2_backoff *b, int64_t now_ms)
{
	switch (ec2_err_kind(e->code, message)) {
	case EC2_ERRK_THROTTLE: {
		int64_t d = b ? b->d_ms * 3 / 2 + 1000 : 1000;

		if (d < 1000)
			d = 1000;
		if (d > 60000)
			d = 60000;
		if (b)
			b->d_ms = d;
		e->cls = DRV_ERR_RATE_LIMIT;
		e->earliest_retry_ms = now_ms + d;
		break;
	}
	case EC2_ERRK_QUOTA:
		e->cls = DRV_ERR_QUOTA;
		break;
	case EC2_ERRK_CAPACITY_GROUP:
		e->cls = DRV_ERR_CAPACITY;
		e->quota_group_specific = true;
		break;
	case EC2_ERRK_CAPACITY_TYPE:
		e->cls = DRV_ERR_CAPACITY;
		e->type_specific = true;
		break;
	case EC2_ERRK_OTHER:
		e->cls = DRV_ERR_OTHER;
		ec2_backoff_reset(b);
		break;
	}
}
