/* A hypercall whose argument block is outside guest RAM: ends the VM. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("about to pass a bad argument block\n");
	lv_hypercall(LV_HC_TIME, (void *)(uintptr_t)0xFFFFFFF0u);
	lv_printf("not reached\n");
	return 0;
}
