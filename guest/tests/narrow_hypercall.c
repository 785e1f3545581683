/* A hypercall port written with outb instead of outl: a guest fault. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("outb to a hypercall port\n");
	lv_outb(LV_HC_PORT_BASE + LV_HC_TIME, 1);
	lv_printf("not reached\n");
	return 0;
}
