/* Writes to a guest-physical address with no RAM behind it (512 MiB). */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("writing to 0x20000000\n");
	*(volatile uint32_t *)(uintptr_t)0x20000000 = 0xdead;
	lv_printf("not reached\n");
	return 0;
}
