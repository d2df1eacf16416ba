/* fuzz_ec2_xml.c - libFuzzer target for the EC2 XML answer parser and the readers on top of
 * it (error envelope and the classification of its code and message, instances, spot
 * prices, next token). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <stdio.h>

#include "ec2_driver.h"
#include "ec2_errors.h"
#include "ec2_xml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ec2_xnode *r;
	char err[200];
	const char *c, *m;
	struct drv_instance in;

	if (ec2_xml_parse((const char *)data, size, &r, err, sizeof(err)) < 0)
		return 0;
	if (ec2_xml_error(r, &c, &m) == 0) {
		struct drv_error e = { 0 };
		struct ec2_backoff b = { 0 };

		if (!c || !m)
			abort(); /* ec2_call.c prints both */
		snprintf(e.code, sizeof(e.code), "%s", c);
		ec2_err_classify(&e, m, &b, 1700000000000LL);
		(void)ec2_err_subnet_specific(c, m);
	}
	(void)ec2_xml_text(r, "nextToken");
	for (const struct ec2_xnode *res = ec2_xml_path(r, "reservationSet/item"); res;
	     res = ec2_xml_next(res))
		for (const struct ec2_xnode *it = ec2_xml_path(res, "instancesSet/item"); it;
		     it = ec2_xml_next(it))
			if (ec2_instance_parse(it, NULL, &in) == 0)
				drv_instance_free(&in);
	for (const struct ec2_xnode *it = ec2_xml_path(r, "spotPriceHistorySet/item"); it;
	     it = ec2_xml_next(it))
		(void)ec2_parse_time(ec2_xml_text(it, "timestamp"));
	ec2_xml_free(r);
	return 0;
}
