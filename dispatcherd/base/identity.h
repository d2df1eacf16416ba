/* identity.h - the dispatcher's identity derived from its token (spec 5.5). */
#ifndef ADC_IDENTITY_H
#define ADC_IDENTITY_H

#include <stddef.h>

/* InstanceSetID: the <uuid> of a "v2/<uuid>/<secret>" token, else the lowercase hex MD5 of
 * the whole token. out must hold 64 bytes. 0 or -errno. */
int identity_instance_set_id(const char *token, char *out, size_t outlen);

#endif
