/* int3 with no IDT: a triple fault on VT-x/AMD-V; on PVM hosts KVM cannot
 * even emulate it.  Either way the VM must end with a clear message. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("executing int3\n");
	__asm__ volatile("int3");
	lv_printf("not reached\n");
	return 0;
}
