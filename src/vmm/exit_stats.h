/*
 * Exit statistics.  Each vCPU counts the exits that reach the VMM in its
 * own struct exit_counters, written only by its thread (relaxed atomic
 * stores, so another thread may read them at any time without a lock).
 * Exits KVM handles in the kernel are read from KVM's binary statistics
 * (KVM_GET_STATS_FD) where the host provides them.
 */
#ifndef LV_VMM_EXIT_STATS_H
#define LV_VMM_EXIT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labvisor/hypercall_abi.h"

struct vmm_stats;

struct exit_counters {
	uint64_t count[LV_EXIT_REASON_COUNT];
	uint64_t cycles[LV_EXIT_REASON_COUNT];
};

static inline void exit_count(struct exit_counters *c, unsigned reason)
{
	__atomic_store_n(&c->count[reason], c->count[reason] + 1, __ATOMIC_RELAXED);
}

static inline void exit_time(struct exit_counters *c, unsigned reason, uint64_t cycles)
{
	__atomic_store_n(&c->cycles[reason], c->cycles[reason] + cycles, __ATOMIC_RELAXED);
}

/* An exit counted under one reason that turned out to be another (and its time with it). */
static inline void exit_move(struct exit_counters *c, unsigned from, unsigned to)
{
	__atomic_store_n(&c->count[from], c->count[from] - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->count[to], c->count[to] + 1, __ATOMIC_RELAXED);
}

void exit_counters_add_to(const struct exit_counters *c, struct vmm_stats *sum);

/* A vCPU's KVM binary statistics file, reduced to the counters we read. */
#define KVM_STATS_WANTED 12
struct kvm_stats_reader {
	int fd;                 /* -1 when the host has none */
	unsigned n;
	struct { const char *name; uint64_t offset; } field[KVM_STATS_WANTED];
	uint64_t data_offset;   /* values are read with one pread() of */
	uint64_t *data;         /* data_len bytes from data_offset */
	size_t data_len;
};

/* Opens the reader for a vCPU; leaves fd = -1 when unsupported. */
void kvm_stats_open(struct kvm_stats_reader *r, int vcpu_fd);
void kvm_stats_close(struct kvm_stats_reader *r);

/* Adds this vCPU's KVM counters into sum->kvm[] (by name). */
void kvm_stats_add_to(const struct kvm_stats_reader *r, struct vmm_stats *sum);

/* Value of KVM counter `name` in sum, false when absent. */
bool kvm_stats_value(const struct vmm_stats *sum, const char *name, uint64_t *value);

/*
 * Derives the in-kernel reason and the "reported" flags once every vCPU
 * has been added.
 */
void exit_stats_finish(struct vmm_stats *sum);

/* Answers one CPUID-style leaf (see LV_HC_EXIT_STATS); false: bad leaf. */
bool exit_stats_leaf(const struct vmm_stats *s, uint32_t leaf, uint32_t ecx,
		     uint32_t out[4]);

#endif
