/*
 * The MP table (mptable.h), laid out as in the Intel MultiProcessor
 * Specification 1.4, chapter 4: a 16-byte floating pointer, then the
 * configuration table header and its entries, each structure with a byte
 * checksum that makes its bytes sum to zero.
 */
#include <string.h>

#include "mptable.h"

#define MP_SPEC_REV       4             /* 1.4 */
#define LAPIC_GPA         0xfee00000u
#define IOAPIC_GPA        0xfec00000u
#define LAPIC_VERSION     0x14          /* an integrated local APIC */
#define IOAPIC_VERSION    0x11
#define IOAPIC_PINS       24
#define ISA_BUS           0

enum { ENTRY_CPU = 0, ENTRY_BUS = 1, ENTRY_IOAPIC = 2, ENTRY_IOINT = 3, ENTRY_LINT = 4 };
enum { INT_VECTORED = 0, INT_NMI = 1, INT_EXTINT = 3 };
#define ENTRY_ENABLED     0x01          /* processor and IOAPIC entries: usable */
#define CPU_BOOT          0x02

struct mp_floating {
	char signature[4];              /* "_MP_" */
	uint32_t config_gpa;
	uint8_t length16;               /* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];             /* all 0: a configuration table is present */
} __attribute__((packed));

struct mp_config {
	char signature[4];              /* "PCMP" */
	uint16_t length;                /* header and entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic_gpa;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_cpu {
	uint8_t type, lapic_id, lapic_version, flags;
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type, id;
	char name[6];                   /* "ISA   " */
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type, id, version, flags;
	uint32_t gpa;
} __attribute__((packed));

struct mp_irq {                         /* I/O and local interrupt assignments */
	uint8_t type, irq_type;
	uint16_t flags;                 /* 0: polarity and trigger conform to the bus */
	uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mp_config) == 44, "MP configuration table header");
_Static_assert(sizeof(struct mp_cpu) == 20, "MP processor entry");
_Static_assert(sizeof(struct mp_bus) == 8 && sizeof(struct mp_ioapic) == 8 &&
	       sizeof(struct mp_irq) == 8, "MP 8-byte entries");

#define IRQ_ENTRIES (IOAPIC_PINS + 2)   /* every pin, then LINT0 and LINT1 */

size_t mptable_size(unsigned ncpus)
{
	return sizeof(struct mp_floating) + sizeof(struct mp_config) +
	       ncpus * sizeof(struct mp_cpu) + sizeof(struct mp_bus) +
	       sizeof(struct mp_ioapic) + IRQ_ENTRIES * sizeof(struct mp_irq);
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static struct mp_irq irq_entry(uint8_t type, uint8_t irq_type, uint8_t src_irq,
			       uint8_t dst_apic, uint8_t dst_pin)
{
	return (struct mp_irq){ .type = type, .irq_type = irq_type, .src_bus = ISA_BUS,
				.src_irq = src_irq, .dst_apic = dst_apic, .dst_pin = dst_pin };
}

/* The entries after the header, at p; returns their count. */
static uint16_t write_entries(uint8_t *p, unsigned ncpus)
{
	uint8_t ioapic_id = (uint8_t)ncpus;     /* after the LAPIC IDs 0..n-1 */
	struct mp_irq irq;
	uint16_t n = 0;

	for (unsigned i = 0; i < ncpus; i++, n++) {
		struct mp_cpu cpu = {
			.type = ENTRY_CPU, .lapic_id = (uint8_t)i, .lapic_version = LAPIC_VERSION,
			.flags = ENTRY_ENABLED | (i == 0 ? CPU_BOOT : 0),
			.signature = 0x600,     /* family 6: only read by pre-APIC-era checks */
			.features = 1u << 0 | 1u << 9,  /* FPU, APIC */
		};

		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	memcpy(p, &(struct mp_bus){ .type = ENTRY_BUS, .id = ISA_BUS, .name = "ISA   " },
	       sizeof(struct mp_bus));
	p += sizeof(struct mp_bus);
	memcpy(p, &(struct mp_ioapic){ .type = ENTRY_IOAPIC, .id = ioapic_id,
		.version = IOAPIC_VERSION, .flags = ENTRY_ENABLED, .gpa = IOAPIC_GPA },
	       sizeof(struct mp_ioapic));
	p += sizeof(struct mp_ioapic);
	n += 2;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++, n++) {
		irq = irq_entry(ENTRY_IOINT, INT_VECTORED, (uint8_t)pin, ioapic_id, (uint8_t)pin);
		memcpy(p, &irq, sizeof(irq));
		p += sizeof(irq);
	}
	/* the 8259 PIC's output on every LAPIC's LINT0, NMI on LINT1 */
	irq = irq_entry(ENTRY_LINT, INT_EXTINT, 0, 0xff, 0);
	memcpy(p, &irq, sizeof(irq));
	p += sizeof(irq);
	irq = irq_entry(ENTRY_LINT, INT_NMI, 0, 0xff, 1);
	memcpy(p, &irq, sizeof(irq));
	return n + 2;
}

int mptable_write(const struct guest_mem *mem, unsigned ncpus, struct lv_err *err)
{
	size_t size = mptable_size(ncpus);
	uint8_t *base = gm_range(mem, MPTABLE_GPA, size);
	struct mp_floating *fp = (struct mp_floating *)base;
	struct mp_config *cfg = (struct mp_config *)(base + sizeof(*fp));

	if (ncpus == 0 || ncpus > 254 || MPTABLE_GPA + size > MPTABLE_LIMIT || !base)
		return lv_err_set(err, "MP table for %u vCPUs: %zu bytes at 0x%llx do not fit below "
			      "1 MiB of guest RAM", ncpus, size, MPTABLE_GPA);
	memset(base, 0, size);
	*cfg = (struct mp_config){
		.signature = "PCMP", .length = (uint16_t)(size - sizeof(*fp)),
		.spec_rev = MP_SPEC_REV, .oem = "LABVISOR", .product = "LABVISOR-VM",
		.lapic_gpa = LAPIC_GPA,
	};
	cfg->entries = write_entries((uint8_t *)(cfg + 1), ncpus);
	cfg->checksum = checksum(cfg, cfg->length);
	*fp = (struct mp_floating){
		.signature = "_MP_", .config_gpa = (uint32_t)(MPTABLE_GPA + sizeof(*fp)),
		.length16 = 1, .spec_rev = MP_SPEC_REV,
	};
	fp->checksum = checksum(fp, sizeof(*fp));
	return 0;
}
