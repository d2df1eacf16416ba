/*
 * fuzz_cloud_helper.h - the body of the cloud verbs' libFuzzer targets: fuzz_helper.h's
 * scheme (a parsable input is decoded as is, anything else is a payload behind a header of
 * the target's type; a successful decode must re-encode to the same bytes) over the cases
 * of proto_cloud_cases.c.
 */
#ifndef ADC_FUZZ_CLOUD_HELPER_H
#define ADC_FUZZ_CLOUD_HELPER_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto_cloud_cases.h"

static inline int
proto_cloud_fuzz_one(const char *name, uint16_t type, const uint8_t *data, size_t size)
{
	static uint8_t buf[PROTO_MAX_MSG];
	const struct proto_case *c = proto_cloud_case_find(name);
	struct proto_msg m;
	int rc;

	if (c == NULL)
		abort();
	if (proto_case_view(data, size, &m) != 0) {
		size_t n = size > PROTO_MAX_MSG - PROTO_HDR_LEN ? PROTO_MAX_MSG - PROTO_HDR_LEN
								: size;

		memset(&m, 0, sizeof(m));
		m.hdr.type = type;
		m.hdr.len = (uint32_t)(PROTO_HDR_LEN + n);
		memcpy(buf, data, n);
		m.payload = buf;
		m.payload_len = n;
		m.fd = -1;
	}
	rc = c->check(&m);
	if (rc != 0 && rc != -EBADMSG)
		abort(); /* -EILSEQ: accepted but not canonical */
	return 0;
}

#define PROTO_CLOUD_FUZZ_TARGET(name, type)                                      \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);            \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)             \
	{                                                                        \
		return proto_cloud_fuzz_one("cloud_" #name, (type), data, size); \
	}

#endif
