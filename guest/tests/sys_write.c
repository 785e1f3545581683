/* Tries to rewrite the VMM's page tables (the read-only system area at 1 GiB
 * for guests of up to 1 GiB): the write must end the VM, not land. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("overwriting the PML4 at 0x40001000\n");
	*(volatile uint64_t *)(uintptr_t)0x40001000 = 0;
	lv_printf("not reached\n");
	return 0;
}
