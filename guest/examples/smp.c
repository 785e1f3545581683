/*
 * Every vCPU increments a shared counter with an atomic add and prints its
 * id; vCPU 0 waits for all of them before it ends the VM.  Run with --cpus N.
 */
#include "labvisor/guest.h"

static volatile unsigned counter;
static volatile unsigned finished;

int main(void)
{
	unsigned id = lv_vcpu_id(), count = lv_vcpu_count();
	unsigned mine = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);

	lv_printf("vcpu %u of %u: counter is now %u\n", id, count, mine);
	__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
	if (id != 0)
		return (int)id;         /* halts this vCPU with RAX = id */
	while (__atomic_load_n(&finished, __ATOMIC_SEQ_CST) < count)
		__asm__ volatile("pause");
	lv_printf("all %u vcpus counted: counter = %u\n", count, counter);
	return counter == count ? 0 : 1;
}
