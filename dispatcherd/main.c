/* main.c - arvados-dispatch-cloud (placeholder until the foundation lands). */
#include <stdio.h>
#include "build_id.h"

int
main(void)
{
	printf("arvados-dispatch-cloud %s\n", ADC_VERSION);
	return 0;
}
