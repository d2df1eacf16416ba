/* container_uuid.h - the one container UUID pattern of the project. */
#ifndef ADC_CONTAINER_UUID_H
#define ADC_CONTAINER_UUID_H

#include <stdbool.h>

/* ^[a-z0-9]{5}-dz642-[a-z0-9]{15}$ (NULL: false). Used by the proto decoders, by sshd-pool
 * before a UUID goes into a command line, and by the parent's pool for `crunch-run --list`
 * output: one pattern, so a line one side accepts is never refused by the other. It lives in
 * common/ because the pool may not include proto/ (docs/ARCHITECTURE.md, module map). */
bool container_uuid_valid(const char *s);

#endif
