/* An exception with no IDT: the CPU escalates to a triple fault. */
#include "labvisor/guest.h"

int main(void)
{
	lv_printf("executing ud2\n");
	__builtin_trap();
}
