/*
 * proto_cases.h - one entry per typed decoder, shared by the mutation test, the libFuzzer
 * targets and the seed-corpus generator: valid sample encodings, and a decode that, on
 * success, re-encodes and checks the result is byte-identical (the encoding is canonical).
 */
#ifndef ADC_TEST_PROTO_CASES_H
#define ADC_TEST_PROTO_CASES_H

#include "proto.h"

struct proto_case {
	const char *name;
	/* Encode sample i (0 <= i < nsamples) into w. 0 or -errno. */
	int (*sample)(struct proto_wbuf *w, int i);
	int nsamples;
	/* Decode m; on success re-encode and compare, free everything. Returns the decoder's
	 * result; a successful decode whose re-encoding differs returns -EILSEQ. */
	int (*check)(const struct proto_msg *m);
};

extern const struct proto_case proto_cases[];
extern const size_t proto_ncases;

const struct proto_case *proto_case_find(const char *name);
/* A message view of a finished wbuf (or any buffer whose header parses). 0 or -EBADMSG. */
int proto_case_view(const uint8_t *buf, size_t len, struct proto_msg *m);

#endif
