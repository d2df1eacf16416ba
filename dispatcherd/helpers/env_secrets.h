/*
 * env_secrets.h - the AWS credential variables move from dispatcherd's environment to
 * cloudd's secret fd.
 *
 * The AWS SDK conventions let an operator give EC2 keys as AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (e.g. an EnvironmentFile). The parent must
 * not keep them (a core dump of it holds no cloud credential), so at start-up, before any
 * child is spawned, env_secrets_take() removes them from environ and overwrites their
 * bytes in place: those strings live in the process's initial stack area (also what
 * /proc/self/environ shows), which no free() would ever scrub. Their values travel in the
 * "Env" object of cloudd's secret blob (dispatcher.c, cloudd/cloudd.c).
 */
#ifndef ADC_ENV_SECRETS_H
#define ADC_ENV_SECRETS_H

#include <cjson/cJSON.h>

/* The names moved (NULL-terminated). */
extern const char *const env_secrets_names[];

/* Take every set variable of env_secrets_names: *out is a JSON object name -> value (empty
 * object when none; its strings are secret: wipe before freeing, see env_secrets_free).
 * Every occurrence is unset and wiped even on failure. 0 or -ENOMEM. */
int env_secrets_take(cJSON **out);
/* Wipe the values and free the object. NULL is fine. */
void env_secrets_free(cJSON *obj);

#endif
