/*
 * proto_cloud_cases.h - the cloud verbs' entries (proto_cloud.h) in the shape of
 * proto_cases.h: valid samples and a decode + canonical re-encode check per decoder. Kept
 * apart from proto_cases.c so that each message range lives in its own files.
 */
#ifndef ADC_TEST_PROTO_CLOUD_CASES_H
#define ADC_TEST_PROTO_CLOUD_CASES_H

#include "proto_cases.h"
#include "proto_cloud.h"

extern const struct proto_case proto_cloud_cases[];
extern const size_t proto_cloud_ncases;

const struct proto_case *proto_cloud_case_find(const char *name);

/* Filled samples shared with the round-trip tests. */
void proto_cloud_sample_err(struct proto_cloud_err *e, int cls);
void proto_cloud_sample_inst(struct proto_cloud_inst *i, int k);

#endif
