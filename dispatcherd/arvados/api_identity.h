/*
 * api_identity.h - who the dispatcher is to the API server (spec/dispatcher.md 2.1):
 * GET /arvados/v1/api_client_authorizations/current, whose uuid the server writes into
 * locked_by_uuid when this dispatcher locks a container.
 */
#ifndef ADC_API_IDENTITY_H
#define ADC_API_IDENTITY_H

#include "api_client.h"

/* err 0: uuid is the token's uuid (valid during the call only). Else err and error as in
 * struct api_result, or -EBADMSG when the answer has no uuid string. */
typedef void (*api_identity_cb)(void *arg, int err, const char *uuid, const char *error);

/* 0, or api_call's errors (then cb is never called). */
int api_identity_fetch(struct api_client *c, api_identity_cb cb, void *arg);

#endif
