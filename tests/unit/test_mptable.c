/*
 * The MP table read back the way Linux's arch/x86/kernel/mpparse.c reads
 * it: the floating pointer found by its signature on a 16-byte boundary of
 * the EBDA's first KiB, both checksums, then every entry walked by type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/mptable.h"

static uint8_t ram[1 << 20];
static const struct guest_mem gm = { ram, sizeof(ram) };

struct seen {
	unsigned cpus, boot_cpus, buses, ioapics, ioints, lints;
	uint8_t lapic_ids[64], ioapic_id;
	uint8_t pin_of_irq[24];
};

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const uint8_t *find_floating(void)
{
	for (uint64_t a = 0x9fc00; a < 0xa0000; a += 16)
		if (memcmp(ram + a, "_MP_", 4) == 0)
			return ram + a;
	return NULL;
}

static struct seen walk(void)
{
	const uint8_t *fp = find_floating(), *cfg, *e;
	struct seen s = { 0 };
	uint32_t cfg_gpa;
	uint16_t len, count;

	assert_non_null(fp);
	assert_int_equal(sum(fp, 16), 0);
	assert_int_equal(fp[8], 1);                     /* one 16-byte paragraph */
	assert_int_equal(fp[9], 4);                     /* spec 1.4 */
	assert_int_equal(fp[11], 0);                    /* a table follows, no default config */
	memcpy(&cfg_gpa, fp + 4, 4);
	cfg = ram + cfg_gpa;
	assert_memory_equal(cfg, "PCMP", 4);
	memcpy(&len, cfg + 4, 2);
	memcpy(&count, cfg + 34, 2);
	assert_int_equal(sum(cfg, len), 0);
	assert_int_equal(cfg[6], 4);
	assert_int_equal(cfg[36] | cfg[37] << 8 | cfg[38] << 16 | (uint32_t)cfg[39] << 24,
			 0xfee00000u);
	e = cfg + 44;
	for (unsigned i = 0; i < count; i++) {
		assert_true(e < cfg + len);
		switch (e[0]) {
		case 0:
			s.lapic_ids[s.cpus++] = e[1];
			assert_true(e[3] & 1);                  /* enabled */
			s.boot_cpus += (e[3] & 2) != 0;
			e += 20;
			break;
		case 1:
			s.buses++;
			assert_memory_equal(e + 2, "ISA   ", 6);
			e += 8;
			break;
		case 2:
			s.ioapics++;
			s.ioapic_id = e[1];
			assert_int_equal(e[4] | e[5] << 8 | e[6] << 16 | (uint32_t)e[7] << 24,
					 0xfec00000u);
			e += 8;
			break;
		case 3:
			assert_int_equal(e[6], s.ioapic_id);
			assert_true(e[5] < 24);
			s.pin_of_irq[e[5]] = e[7];
			s.ioints++;
			e += 8;
			break;
		case 4:
			s.lints++;
			e += 8;
			break;
		default:
			fail_msg("unknown entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, cfg + len);                 /* the length covers exactly the entries */
	return s;
}

static void one_cpu(void **state)
{
	struct lv_err err;
	struct seen s;

	(void)state;
	memset(ram, 0, sizeof(ram));
	assert_int_equal(mptable_write(&gm, 1, &err), 0);
	s = walk();
	assert_int_equal(s.cpus, 1);
	assert_int_equal(s.boot_cpus, 1);
	assert_int_equal(s.buses, 1);
	assert_int_equal(s.ioapics, 1);
	assert_int_equal(s.ioints, 24);
	assert_int_equal(s.lints, 2);
	assert_int_not_equal(s.ioapic_id, 0);           /* not a LAPIC's ID */
	for (unsigned irq = 0; irq < 24; irq++)
		assert_int_equal(s.pin_of_irq[irq], irq);
}

static void many_cpus(void **state)
{
	struct lv_err err;
	struct seen s;

	(void)state;
	memset(ram, 0, sizeof(ram));
	assert_int_equal(mptable_write(&gm, 64, &err), 0);
	s = walk();
	assert_int_equal(s.cpus, 64);
	assert_int_equal(s.boot_cpus, 1);
	for (unsigned i = 0; i < 64; i++) {
		assert_int_equal(s.lapic_ids[i], i);
		assert_int_not_equal(s.ioapic_id, i);
	}
	assert_true(0x9fc00 + mptable_size(64) <= 0x100000);
}

static void refused_when_it_cannot_fit(void **state)
{
	const struct guest_mem small = { ram, 0x9fc00 + 64 };
	struct lv_err err;

	(void)state;
	assert_int_equal(mptable_write(&small, 1, &err), -1);
	assert_non_null(strstr(err.msg, "MP table"));
	assert_int_equal(mptable_write(&gm, 0, &err), -1);
	assert_int_equal(mptable_write(&gm, 255, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_cpu),
		cmocka_unit_test(many_cpus),
		cmocka_unit_test(refused_when_it_cannot_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
