/*
 * The Intel MultiProcessor Specification 1.4 table of a Linux guest: its
 * processors (one per vCPU, LAPIC IDs 0..n-1), an ISA bus, the in-kernel
 * IOAPIC and ISA IRQ i wired to IOAPIC pin i (KVM's default routing), the
 * PIC on LINT0 and NMI on LINT1.  Without it a Linux guest sees one CPU and
 * no IOAPIC; it is also where the kernel's scan for the table stops early.
 */
#ifndef LV_VMM_MPTABLE_H
#define LV_VMM_MPTABLE_H

#include "guest_mem.h"
#include "util/err.h"

/* The floating pointer goes at the start of the EBDA, the second place Linux
 * looks (after the first KiB of memory) and where it finds it after 64
 * probes instead of the ~4300 of a scan of the BIOS area. */
#define MPTABLE_GPA   0x9fc00ull
#define MPTABLE_LIMIT 0x100000ull       /* the table ends below 1 MiB */

/* Bytes the table takes for ncpus processors. */
size_t mptable_size(unsigned ncpus);

/* Writes the table at MPTABLE_GPA; -1 with err when it does not fit. */
int mptable_write(const struct guest_mem *mem, unsigned ncpus, struct lv_err *err);

#endif
