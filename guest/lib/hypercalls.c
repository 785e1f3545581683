/* Thin wrappers: fill the argument block, make the call, return `ret`. */
#include "labvisor/guest.h"

int64_t lv_console_write(const void *buf, size_t len)
{
	struct lv_hc_console_write a = { .buf = (uintptr_t)buf, .len = len };

	lv_hypercall(LV_HC_CONSOLE_WRITE, &a);
	return a.ret;
}

void lv_exit(int code)
{
	struct lv_hc_exit a = { .code = code };

	lv_hypercall(LV_HC_EXIT, &a);
	for (;;)
		__asm__ volatile("hlt");
}

void lv_halt(uint64_t rax)
{
	for (;;)
		__asm__ volatile("hlt" : : "a"(rax));
}

static struct lv_hc_vcpu_info vcpu_info(void)
{
	struct lv_hc_vcpu_info a = { 0 };

	lv_hypercall(LV_HC_VCPU_INFO, &a);
	return a;
}

unsigned lv_vcpu_id(void)
{
	return vcpu_info().id;
}

unsigned lv_vcpu_count(void)
{
	return vcpu_info().count;
}

uint64_t lv_time_ns(void)
{
	struct lv_hc_time a = { 0 };

	lv_hypercall(LV_HC_TIME, &a);
	return a.ns;
}

int64_t lv_abi_version(void)
{
	int64_t ret = 0;

	lv_hypercall(LV_HC_ABI_VERSION, &ret);
	return ret;
}

int64_t lv_exit_stats(uint32_t leaf, uint32_t ecx, uint32_t out[4])
{
	struct lv_hc_exit_stats a = { .leaf = leaf, .ecx_in = ecx };

	lv_hypercall(LV_HC_EXIT_STATS, &a);
	out[0] = a.eax;
	out[1] = a.ebx;
	out[2] = a.ecx;
	out[3] = a.edx;
	return a.ret;
}
