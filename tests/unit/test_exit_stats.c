/* The CPUID-style leaves of the exit-statistics query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/exit_stats.h"
#include "vmm/vmm.h"

static struct vmm_stats sample(bool kvm_available)
{
	struct vmm_stats s;

	memset(&s, 0, sizeof(s));
	s.count[LV_EXIT_CONSOLE] = 14;
	s.cycles[LV_EXIT_CONSOLE] = 0x100000002ull;
	s.count[LV_EXIT_HLT] = 1;
	s.cycles[LV_EXIT_HLT] = 5;
	if (kvm_available) {
		s.nkvm = 1;
		strcpy(s.kvm[0].name, "exits");
		s.kvm[0].value = 20;
	}
	exit_stats_finish(&s);
	return s;
}

static void totals(void **state)
{
	struct vmm_stats s = sample(true);
	uint32_t r[4];

	(void)state;
	assert_true(exit_stats_leaf(&s, LV_LEAF_TOTAL_EXITS, 0, r));
	assert_int_equal(r[0], 20);     /* 15 seen by the VMM + 5 inside KVM */
	assert_true(exit_stats_leaf(&s, LV_LEAF_TOTAL_CYCLES, 0, r));
	assert_int_equal(r[1], 1);      /* high 32 bits in EBX */
	assert_int_equal(r[2], 7);      /* low 32 bits in ECX */
}

static void per_reason(void **state)
{
	struct vmm_stats s = sample(true);
	uint32_t r[4];

	(void)state;
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_EXITS, LV_EXIT_CONSOLE, r));
	assert_int_equal(r[0], 14);
	assert_int_equal(r[3], 0);
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_CYCLES, LV_EXIT_CONSOLE, r));
	assert_int_equal(r[1], 1);
	assert_int_equal(r[2], 2);
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_EXITS, LV_EXIT_IN_KERNEL, r));
	assert_int_equal(r[0], 5);
	/* In-kernel exits are counted but never timed. */
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_CYCLES, LV_EXIT_IN_KERNEL, r));
	assert_int_equal(r[0] | r[1] | r[2], 0);
	assert_int_equal(r[3], 0xFFFFFFFFu);
}

static void undefined_and_unreported(void **state)
{
	struct vmm_stats s = sample(false);
	uint32_t r[4];

	(void)state;
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_EXITS, LV_EXIT_REASON_COUNT, r));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_EXITS, 0xFFFFFFFFu, r));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	/* No KVM statistics on this "host": the in-kernel reason is never reported. */
	assert_true(exit_stats_leaf(&s, LV_LEAF_REASON_EXITS, LV_EXIT_IN_KERNEL, r));
	assert_int_equal(r[0] | r[1] | r[2], 0);
	assert_int_equal(r[3], 0xFFFFFFFFu);
	assert_false(exit_stats_leaf(&s, 0x40000000u, 0, r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(totals),
		cmocka_unit_test(per_reason),
		cmocka_unit_test(undefined_and_unreported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
