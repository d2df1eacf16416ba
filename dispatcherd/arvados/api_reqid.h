/* api_reqid.h - X-Request-Id values: "req-" and 20 random base-36 characters (spec 2.2). */
#ifndef ADC_API_REQID_H
#define ADC_API_REQID_H

#include <stddef.h>

#define API_REQID_CHARS 20
#define API_REQID_SIZE	(4 + API_REQID_CHARS + 1)

/* Fill out (API_REQID_SIZE bytes) from getrandom(2). 0 or -errno. */
int api_reqid_new(char out[API_REQID_SIZE]);

#endif
