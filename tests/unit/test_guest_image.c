/* ELF64 and flat loading from crafted images, good and hostile. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/guest_image.h"

#define RAM_SIZE (64u << 10)

static uint8_t ram[RAM_SIZE];
static const struct guest_mem gm = { ram, RAM_SIZE };

/* An ELF with one PT_LOAD: 16 bytes of 0xAB at paddr 0x1000, memsz 64. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint8_t payload[16];
};

static struct image good(void)
{
	struct image im;

	memset(&im, 0, sizeof(im));
	memcpy(im.eh.e_ident, ELFMAG, SELFMAG);
	im.eh.e_ident[EI_CLASS] = ELFCLASS64;
	im.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im.eh.e_type = ET_EXEC;
	im.eh.e_machine = EM_X86_64;
	im.eh.e_entry = 0x1004;
	im.eh.e_phoff = offsetof(struct image, ph);
	im.eh.e_phentsize = sizeof(Elf64_Phdr);
	im.eh.e_phnum = 1;
	im.ph.p_type = PT_LOAD;
	im.ph.p_offset = offsetof(struct image, payload);
	im.ph.p_paddr = 0x1000;
	im.ph.p_vaddr = 0x1000;
	im.ph.p_filesz = sizeof(im.payload);
	im.ph.p_memsz = 64;
	memset(im.payload, 0xAB, sizeof(im.payload));
	return im;
}

static int load(const struct image *im, size_t size, struct guest_image *out, struct lv_err *err)
{
	memset(ram, 0x5A, sizeof(ram));
	return image_load_elf((const uint8_t *)im, size, &gm, out, err);
}

static void loads_segments_and_zeroes_bss(void **state)
{
	struct image im = good();
	struct guest_image out;
	struct lv_err err;

	(void)state;
	assert_int_equal(load(&im, sizeof(im), &out, &err), 0);
	assert_int_equal(out.entry, 0x1004);
	assert_int_equal(out.end, 0x1000 + 64);
	assert_int_equal(ram[0x1000], 0xAB);
	assert_int_equal(ram[0x100F], 0xAB);
	assert_int_equal(ram[0x1010], 0);       /* bss zeroed */
	assert_int_equal(ram[0x103F], 0);
	assert_int_equal(ram[0x1040], 0x5A);    /* nothing beyond memsz */
}

static void expect_error(struct image *im, size_t size, const char *needle)
{
	struct guest_image out;
	struct lv_err err;

	assert_int_equal(load(im, size, &out, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' does not mention '%s'", err.msg, needle);
}

static void rejects_bad_headers(void **state)
{
	struct image im;

	(void)state;
	im = good(); im.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_error(&im, sizeof(im), "32-bit");
	im = good(); im.eh.e_machine = EM_AARCH64;
	expect_error(&im, sizeof(im), "not x86-64");
	im = good(); im.eh.e_type = ET_DYN;
	expect_error(&im, sizeof(im), "ET_EXEC");
	im = good(); im.eh.e_phnum = 0;
	expect_error(&im, sizeof(im), "program headers");
	im = good(); im.eh.e_phoff = 0xFFFFFFFFFFFFFFF0ull;
	expect_error(&im, sizeof(im), "past the end");
	im = good(); im.eh.e_ident[1] = 'X';
	expect_error(&im, sizeof(im), "not an ELF");
	expect_error(&im, 10, "not an ELF");
}

static void rejects_bad_segments(void **state)
{
	struct image im;

	(void)state;
	im = good(); im.ph.p_filesz = 128;
	expect_error(&im, sizeof(im), "exceeds memory size");
	im = good(); im.ph.p_offset = sizeof(im);
	expect_error(&im, sizeof(im), "past the end");
	im = good(); im.ph.p_offset = UINT64_MAX;
	expect_error(&im, sizeof(im), "past the end");
	im = good(); im.ph.p_paddr = RAM_SIZE - 8;
	expect_error(&im, sizeof(im), "guest larger than its memory");
	im = good(); im.ph.p_paddr = UINT64_MAX - 8;
	expect_error(&im, sizeof(im), "guest larger than its memory");
	im = good(); im.ph.p_memsz = UINT64_MAX;
	expect_error(&im, sizeof(im), "guest larger than its memory");
	im = good(); im.eh.e_entry = RAM_SIZE;
	expect_error(&im, sizeof(im), "entry point");
	im = good(); im.ph.p_type = PT_NOTE;
	expect_error(&im, sizeof(im), "no loadable segment");
}

static void flat_images(void **state)
{
	static uint8_t big[RAM_SIZE + 1];
	struct guest_image out;
	struct lv_err err;
	uint8_t code[3] = { 0x90, 0xF4, 0xCC };

	(void)state;
	assert_int_equal(image_load_flat(code, sizeof(code), &gm, &out, &err), 0);
	assert_int_equal(out.entry, 0);
	assert_int_equal(out.end, 3);
	assert_memory_equal(ram, code, sizeof(code));
	assert_int_equal(image_load_flat(big, sizeof(big), &gm, &out, &err), -1);
	assert_non_null(strstr(err.msg, "guest larger than its memory"));
	assert_int_equal(image_load_flat(code, 0, &gm, &out, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_segments_and_zeroes_bss),
		cmocka_unit_test(rejects_bad_headers),
		cmocka_unit_test(rejects_bad_segments),
		cmocka_unit_test(flat_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
