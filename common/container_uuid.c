/* container_uuid.c - the one container UUID pattern (container_uuid.h). */
#include "container_uuid.h"

#include <string.h>

#define CU_ALNUM "abcdefghijklmnopqrstuvwxyz0123456789"

bool
container_uuid_valid(const char *s)
{
	if (s == NULL || strnlen(s, 28) != 27 || strncmp(s + 5, "-dz642-", 7) != 0)
		return false;
	return strspn(s, CU_ALNUM) == 5 && strspn(s + 12, CU_ALNUM) == 15;
}
