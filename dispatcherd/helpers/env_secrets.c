/* env_secrets.c - see env_secrets.h. */
#include "env_secrets.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

extern char **environ;

const char *const env_secrets_names[] = {
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	NULL,
};

/* The first environ entry "name=...", or NULL. */
static char *
env_secrets_find(const char *name)
{
	size_t n = strlen(name);

	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e;
	return NULL;
}

int
env_secrets_take(cJSON **out)
{
	cJSON *obj = cJSON_CreateObject();
	int rc = obj != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; env_secrets_names[i] != NULL; i++) {
		const char *name = env_secrets_names[i];
		size_t n = strlen(name);
		char *entry;
		bool first = true;

		/* Every occurrence (a hand-built environ may repeat a name); the first is the
		 * one getenv() would have returned. */
		while ((entry = env_secrets_find(name)) != NULL) {
			if (first && rc == 0 && entry[n + 1] != 0 &&
			    cJSON_AddStringToObject(obj, name, entry + n + 1) == NULL)
				rc = -ENOMEM;
			first = false;
			/* Unset first (it matches by name), then wipe the bytes where they are. */
			unsetenv(name);
			adc_wipe(entry, strlen(entry));
		}
	}
	if (rc != 0) {
		env_secrets_free(obj);
		obj = NULL;
	}
	*out = obj;
	return rc;
}

void
env_secrets_free(cJSON *obj)
{
	cJSON *it;

	if (obj == NULL)
		return;
	cJSON_ArrayForEach(it, obj) if (cJSON_IsString(it) && it->valuestring != NULL)
		adc_wipe(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(obj);
}
