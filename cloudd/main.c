/* main.c - cloudd (placeholder until the foundation lands). */
#include <stdio.h>
#include "build_id.h"

int
main(void)
{
	printf("cloudd %s\n", ADC_VERSION);
	return 0;
}
