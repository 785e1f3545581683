#include "exit_stats.h"

#include <string.h>

#include "vmm.h"

static const char *const reason_names[LV_EXIT_REASON_COUNT] = {
	[LV_EXIT_CONSOLE]   = "console_io",
	[LV_EXIT_HYPERCALL] = "hypercall",
	[LV_EXIT_PIO]       = "other_io",
	[LV_EXIT_MMIO]      = "mmio",
	[LV_EXIT_HLT]       = "hlt",
	[LV_EXIT_SHUTDOWN]  = "shutdown",
	[LV_EXIT_INTR]      = "signal",
	[LV_EXIT_OTHER]     = "other",
	[LV_EXIT_IN_KERNEL] = "in_kernel",
	[LV_EXIT_PVM_EMULATED] = "pvm_emulated",
	[LV_EXIT_PVM_SYSCALL] = "pvm_syscall",
};

const char *vmm_exit_reason_name(unsigned reason)
{
	return reason < LV_EXIT_REASON_COUNT ? reason_names[reason] : NULL;
}

void exit_counters_add_to(const struct exit_counters *c, struct vmm_stats *sum)
{
	for (unsigned r = 0; r < LV_EXIT_REASON_COUNT; r++) {
		sum->count[r] += __atomic_load_n(&c->count[r], __ATOMIC_RELAXED);
		sum->cycles[r] += __atomic_load_n(&c->cycles[r], __ATOMIC_RELAXED);
	}
}

bool kvm_stats_value(const struct vmm_stats *sum, const char *name, uint64_t *value)
{
	for (unsigned i = 0; i < sum->nkvm; i++) {
		if (strcmp(sum->kvm[i].name, name) == 0) {
			*value = sum->kvm[i].value;
			return true;
		}
	}
	return false;
}

void exit_stats_finish(struct vmm_stats *s)
{
	uint64_t kvm_exits, vmm_exits = 0;

	for (unsigned r = 0; r < LV_EXIT_REASON_COUNT; r++) {
		if (r == LV_EXIT_IN_KERNEL)
			continue;
		s->reported[r] = true;
		s->timed[r] = true;
		/* Signals seen before guest entry (immediate_exit) are no VM exit. */
		if (r != LV_EXIT_INTR)
			vmm_exits += s->count[r];
	}
	s->timed[LV_EXIT_IN_KERNEL] = false;
	s->reported[LV_EXIT_IN_KERNEL] = kvm_stats_value(s, "exits", &kvm_exits);
	s->count[LV_EXIT_IN_KERNEL] = s->reported[LV_EXIT_IN_KERNEL] && kvm_exits > vmm_exits
		? kvm_exits - vmm_exits : 0;
	s->cycles[LV_EXIT_IN_KERNEL] = 0;
}

static void split64(uint64_t v, uint32_t *hi, uint32_t *lo)
{
	*hi = (uint32_t)(v >> 32);
	*lo = (uint32_t)v;
}

bool exit_stats_leaf(const struct vmm_stats *s, uint32_t leaf, uint32_t ecx,
		     uint32_t out[4])
{
	uint64_t total_exits = 0, total_cycles = 0;

	memset(out, 0, 4 * sizeof(out[0]));
	for (unsigned r = 0; r < LV_EXIT_REASON_COUNT; r++) {
		total_exits += s->count[r];
		total_cycles += s->cycles[r];
	}
	switch (leaf) {
	case LV_LEAF_TOTAL_EXITS:
		out[0] = (uint32_t)total_exits;
		return true;
	case LV_LEAF_TOTAL_CYCLES:
		split64(total_cycles, &out[1], &out[2]);
		return true;
	case LV_LEAF_REASON_EXITS:
	case LV_LEAF_REASON_CYCLES:
		if (ecx >= LV_EXIT_REASON_COUNT)
			return true;            /* not defined: all zero */
		if (!s->reported[ecx] || (leaf == LV_LEAF_REASON_CYCLES && !s->timed[ecx])) {
			out[3] = 0xFFFFFFFFu;
			return true;
		}
		if (leaf == LV_LEAF_REASON_EXITS)
			out[0] = (uint32_t)s->count[ecx];
		else
			split64(s->cycles[ecx], &out[1], &out[2]);
		return true;
	default:
		return false;
	}
}
