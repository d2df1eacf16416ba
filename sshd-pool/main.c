/* main.c - sshd-pool (placeholder until the foundation lands). */
#include <stdio.h>
#include "build_id.h"

int
main(void)
{
	printf("sshd-pool %s\n", ADC_VERSION);
	return 0;
}
