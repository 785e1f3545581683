/* The smallest SDK guest: one line through the console hypercall. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("Hello from a Labvisor guest (ABI %d, vcpu %u of %u)\n",
		  (int)lv_abi_version(), lv_vcpu_id(), lv_vcpu_count());
	return 0;
}
