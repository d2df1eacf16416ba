/* ec2_instance.c - instancesSet/item to struct drv_instance (2.4.2), tokens, wall clock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ec2_driver.h"

static char *
ec2_dup_text(const struct ec2_xnode *n, const char *path)
{
	const char *t = ec2_xml_text(n, path);

	return strdup(t ? t : "");
}

int
ec2_instance_parse(const struct ec2_xnode *item, const struct drv_tags *fallback,
		   struct drv_instance *out)
{
	const struct ec2_xnode *ts = ec2_xml_child(item, "tagSet");
	const char *lc = ec2_xml_text(item, "instanceLifecycle");
	const char *id = ec2_xml_text(item, "instanceId");

	memset(out, 0, sizeof(*out));
	if (!id || !*id)
		return -EINVAL;
	out->id = strdup(id);
	out->provider_type = ec2_dup_text(item, "instanceType");
	out->address = ec2_dup_text(item, "privateIpAddress");
	out->subnet_id = ec2_dup_text(item, "subnetId");
	out->state = ec2_dup_text(item, "instanceState/name");
	out->az = ec2_dup_text(item, "placement/availabilityZone");
	out->spot = lc && strcmp(lc, "spot") == 0;
	if (!out->id || !out->provider_type || !out->address || !out->subnet_id || !out->state ||
	    !out->az)
		goto nomem;
	if (ts && ts->child) {
		for (const struct ec2_xnode *it = ec2_xml_child(ts, "item"); it;
		     it = ec2_xml_next(it)) {
			const char *k = ec2_xml_text(it, "key"), *v = ec2_xml_text(it, "value");

			if (k && drv_tags_add(&out->tags, k, v ? v : "") < 0)
				goto nomem;
		}
	} else if (fallback && drv_tags_copy(&out->tags, fallback) < 0) {
		goto nomem; /* 11.2: the tags sent at create stand in for an omitted tagSet */
	}
	return 0;
nomem:
	drv_instance_free(out);
	return -ENOMEM;
}

int64_t
ec2_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random UUID (version 4), as the SDK fills ClientToken. */
int
ec2_random_token(char *buf, size_t len)
{
	unsigned char r[16];

	if (len < 37 || getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
	return 0;
}
