/*
 * fuzz_helper.h - the body shared by the per-decoder libFuzzer targets.
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

static inline int
proto_fuzz_one(const char *name, uint16_t type, uint16_t flags_from, const uint8_t *data,
	       size_t size)
{
	static uint8_t buf[PROTO_MAX_MSG];
	const struct proto_case *c = proto_case_find(name);
	struct proto_msg m;
	int rc;

	if (c == NULL)
		abort();
	if (proto_case_view(data, size, &m) != 0) {
		size_t n = size > PROTO_MAX_MSG - PROTO_HDR_LEN ? PROTO_MAX_MSG - PROTO_HDR_LEN
								: size;

		memset(&m, 0, sizeof(m));
		m.hdr.type = type;
		/* one input byte picks the flags, so F_FD paths are reachable too */
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

#define PROTO_FUZZ_TARGET(name, type, flags)                                \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);       \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)        \
	{                                                                   \
		return proto_fuzz_one((name), (type), (flags), data, size); \
	}

#endif
