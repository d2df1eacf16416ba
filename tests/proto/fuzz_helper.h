/*
 * fuzz_helper.h - the body shared by every per-decoder libFuzzer target of proto/ (the core
 * messages of proto_cases.c, the cloud verbs of proto_cloud_cases.c and the worker operations
 * of proto_ssh_cases.c).
 *
 * An input whose header parses is decoded as it is; any other input is taken as a payload
 * behind a synthesised header of the target's type, so that the fuzzer spends its time in
 * the decoder rather than rediscovering the header. A decode that succeeds must re-encode
 * to the same bytes (the encoding is canonical); anything else aborts.
 */
#ifndef ADC_FUZZ_HELPER_H
#define ADC_FUZZ_HELPER_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto_cases.h"

/* c: the case of the decoder under test (NULL aborts: a target names a case that is gone).
 * flags_from: the header flags one input byte may set, so that F_FD paths are reachable. */
static inline int
proto_fuzz_one(const struct proto_case *c, uint16_t type, uint16_t flags_from, const uint8_t *data,
	       size_t size)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct proto_msg m;
	int rc;

	if (c == NULL)
		abort();
	if (proto_case_view(data, size, &m) != 0) {
		size_t n = size > PROTO_MAX_MSG - PROTO_HDR_LEN ? PROTO_MAX_MSG - PROTO_HDR_LEN
								: size;

		memset(&m, 0, sizeof(m));
		m.hdr.type = type;
		m.hdr.flags = (uint16_t)(n > 0 ? data[0] & flags_from : 0);
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

/* The target for case `name` of the table searched by find (proto_case_find,
 * proto_cloud_case_find, proto_ssh_case_find). */
#define PROTO_FUZZ_TARGET_OF(find, name, type, flags)                           \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);           \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)            \
	{                                                                       \
		return proto_fuzz_one(find(name), (type), (flags), data, size); \
	}

#define PROTO_FUZZ_TARGET(name, type, flags) \
	PROTO_FUZZ_TARGET_OF(proto_case_find, name, type, flags)

#endif
