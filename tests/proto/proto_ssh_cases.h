/*
 * proto_ssh_cases.h - the worker-operation decoders (proto_ssh.h) as proto_case entries (see
 * proto_cases.h): samples and canonical re-encoding checks, for the mutation test, the fuzz
 * targets and their seed corpus. Kept apart from proto_cases.c so that each child's messages
 * live in their own files.
 */
#ifndef ADC_TEST_PROTO_SSH_CASES_H
#define ADC_TEST_PROTO_SSH_CASES_H

#include "proto_cases.h"
#include "proto_ssh.h"

extern const struct proto_case proto_ssh_cases[];
extern const size_t proto_ssh_ncases;

const struct proto_case *proto_ssh_case_find(const char *name);

#endif
