/*
 * The "count the VM exits" assignment from inside the guest: do some work
 * that exits (11 bytes to port 0xE9, a few hypercalls), then read the
 * counters through the CPUID-style leaves and print them.
 */
#include "labvisor/guest.h"

static const char *const names[] = {
	"console_io", "hypercall", "other_io", "mmio", "hlt", "shutdown", "signal",
	"other", "in_kernel", "(undefined)",
};

int main(void)
{
	const char *probe = "0123456789\n";
	uint32_t r[4];

	for (const char *p = probe; *p; p++)
		lv_outb(LV_CONSOLE_PORT, (uint8_t)*p);
	for (int i = 0; i < 5; i++)
		lv_abi_version();

	lv_exit_stats(LV_LEAF_TOTAL_EXITS, 0, r);
	lv_printf("total exits: %u\n", r[0]);
	lv_exit_stats(LV_LEAF_TOTAL_CYCLES, 0, r);
	lv_printf("total cycles: %lu\n", ((uint64_t)r[1] << 32) | r[2]);
	lv_printf("%-3s %-12s %10s %14s %s\n", "nr", "reason", "exits", "cycles", "edx");
	for (uint32_t reason = 0; reason < sizeof(names) / sizeof(names[0]); reason++) {
		uint32_t c[4];

		lv_exit_stats(LV_LEAF_REASON_EXITS, reason, r);
		lv_exit_stats(LV_LEAF_REASON_CYCLES, reason, c);
		lv_printf("%-3u %-12s %10u %14lu %x/%x\n", reason, names[reason], r[0],
			  ((uint64_t)c[1] << 32) | c[2], r[3], c[3]);
	}
	return 0;
}
