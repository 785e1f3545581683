/* Hostile but recoverable calls: each must come back as an error code. */
#include "labvisor/guest.h"

int main(void)
{
	struct lv_hc_console_write w = { .buf = 0xFFFFFFFFFFFFFFF0ull, .len = 0x20 };
	int64_t unknown = 0;
	uint32_t r[4];
	char big[8];

	lv_hypercall(LV_HC_CONSOLE_WRITE, &w);
	lv_printf("wrapping buffer: %d\n", (int)w.ret);
	w.buf = 0x7ff000000000ull;
	w.len = 16;
	lv_hypercall(LV_HC_CONSOLE_WRITE, &w);
	lv_printf("buffer beyond RAM: %d\n", (int)w.ret);
	w.buf = (uintptr_t)big;
	w.len = ~0ull;
	lv_hypercall(LV_HC_CONSOLE_WRITE, &w);
	lv_printf("huge length: %d\n", (int)w.ret);
	lv_hypercall(200, &unknown);
	lv_printf("unknown hypercall: %d\n", (int)unknown);
	lv_printf("read without share: %d\n", (int)lv_read(3, big, sizeof(big)));
	lv_printf("bad leaf: %d\n", (int)lv_exit_stats(0x12345678, 0, r));
	lv_exit_stats(LV_LEAF_REASON_EXITS, 999, r);
	lv_printf("undefined reason: %x %x %x %x\n", r[0], r[1], r[2], r[3]);
	lv_printf("still alive\n");
	return 0;
}
