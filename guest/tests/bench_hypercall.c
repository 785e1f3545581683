/* Benchmark guest: times 20000 hypercall round trips from inside. */
#include "labvisor/guest.h"

#define ROUNDS 20000

int main(void)
{
	uint64_t t0 = lv_time_ns(), t1;

	for (int i = 0; i < ROUNDS; i++)
		lv_abi_version();
	t1 = lv_time_ns();
	lv_printf("hypercall_rounds=%d ns_total=%lu\n", ROUNDS, t1 - t0);
	return 0;
}
