/*
 * drv_check.h - what cloudd's init refuses for good, checked without the network: the driver
 * name and the DriverParameters each driver requires. cloudd answers such an init with
 * PROTO_E_PERMANENT (the dispatcher then stops instead of restarting cloudd), and
 * `arvados-dispatch-cloud config-check` runs the same checks in the parent (linked as
 * adc_drvcheck), so both refuse the same configs with the same words.
 */
#ifndef ADC_DRV_CHECK_H
#define ADC_DRV_CHECK_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Which key a refusal is about. */
enum drv_check_key { DRV_CHECK_DRIVER = 1, DRV_CHECK_PARAMS };

/* 0 when driver is implemented and params (the DriverParameters object) are acceptable to it;
 * else -EINVAL (-ENOSYS for a known but unimplemented driver, -ENOMEM) with a message in err
 * and, in *key when key is not NULL, which key is wrong. params NULL: the driver name only. */
int drv_params_check(const char *driver, const cJSON *params, char *err, size_t errlen,
		     enum drv_check_key *key);

#endif
