/* fuzz_proto_hdr.c - libFuzzer target for proto_hdr_parse: an accepted header must satisfy
 * every documented check and read back the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_hdr h;
	struct proto_wbuf w;

	if (proto_hdr_parse(data, size, &h) != 0)
		return 0;
	if (h.len != size || h.len < PROTO_HDR_LEN || h.len > PROTO_MAX_MSG ||
	    (h.flags & ~PROTO_F_KNOWN) != 0)
		abort();
	if (proto_wbuf_begin(&w, h.type, h.flags, h.reqid, h.timeout_ms) != 0)
		abort();
	proto_put_bytes(&w, NULL, 0); /* 4 bytes; the header is all we compare */
	if (proto_wbuf_end(&w) != 0 || memcmp(w.data, data, 4) != 0 ||
	    memcmp(w.data + 8, data + 8, 8) != 0)
		abort();
	proto_wbuf_free(&w);
	return 0;
}
