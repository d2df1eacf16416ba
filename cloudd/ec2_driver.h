/* ec2_driver.h - internal state shared by the EC2 driver's files (not for other modules). */
#ifndef ADC_EC2_DRIVER_H
#define ADC_EC2_DRIVER_H

#include "drv.h"
#include "ec2_call.h"
#include "ec2_errors.h"
#include "ec2_ops.h"
#include "ec2_params.h"
#include "ec2_spot.h"

struct ec2_kp_cache {
	char fp0[128];
	char name[200];
};

struct ec2_driver {
	struct drv drv;
	uv_loop_t *loop;
	struct ec2_params p;
	struct ec2_client *cl;
	struct ec2_backoff bo_create, bo_instances;
	size_t subnet_cur;		/* 2.4.3 "cur" */
	struct ec2_subnet_stats *stats; /* n_subnets entries, or 1 for "" */
	size_t n_stats;
	struct ec2_kp_cache *kp;
	size_t n_kp;
	struct ec2_spot_cache spot;
	bool spot_refreshing;
	int max_results;
};

/* ec2_instance.c: one instancesSet/item to a drv_instance; fallback tags when it has no
 * tagSet. 0 or -ENOMEM / -EINVAL (no instanceId). */
int ec2_instance_parse(const struct ec2_xnode *item, const struct drv_tags *fallback,
		       struct drv_instance *out);
int64_t ec2_wall_ms(void);
int ec2_random_token(char *buf, size_t len);

/* ec2_list.c */
int ec2_list(struct drv *d, const struct drv_tags *filter, drv_page_cb page, drv_done_cb done,
	     void *arg);
/* ec2_create.c */
int ec2_create(struct drv *d, const struct drv_itype *t, const char *image_id,
	       const struct drv_tags *tags, const char *init_command, const char *public_key,
	       drv_create_cb cb, void *arg);

#endif
