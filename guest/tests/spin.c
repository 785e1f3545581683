/* Never halts: --timeout must stop it. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("spinning\n");
	for (;;)
		__asm__ volatile("" ::: "memory");
}
