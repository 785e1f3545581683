#include "guest_image.h"

#include <elf.h>
#include <string.h>

int image_is_elf(const uint8_t *file, size_t size)
{
	return size >= SELFMAG && memcmp(file, ELFMAG, SELFMAG) == 0;
}

static const char *elf_type_name(unsigned type)
{
	switch (type) {
	case ET_REL:  return "a relocatable object (REL)";
	case ET_DYN:  return "position-independent (DYN)";
	case ET_CORE: return "a core dump";
	default:      return "of an unknown type";
	}
}

static int check_elf_header(const Elf64_Ehdr *eh, size_t size, struct lv_err *err)
{
	uint64_t ph_bytes, ph_end;

	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return lv_err_set(err, "ELF class is %s, labvisor runs ELF64 x86-64 guests",
				  eh->e_ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "unknown");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		return lv_err_set(err, "ELF machine %u is not x86-64 (62)", eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return lv_err_set(err, "ELF file is %s; link the guest as a static ET_EXEC "
				  "(-static -no-pie)", elf_type_name(eh->e_type));
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0)
		return lv_err_set(err, "ELF file has no usable program headers");
	ph_bytes = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (__builtin_add_overflow(eh->e_phoff, ph_bytes, &ph_end) || ph_end > size)
		return lv_err_set(err, "ELF program headers at offset %#llx run past the "
				  "end of the file (%zu bytes)",
				  (unsigned long long)eh->e_phoff, size);
	return 0;
}

static int load_segment(const uint8_t *file, size_t size, const Elf64_Phdr *ph,
			unsigned idx, const struct guest_mem *gm, struct lv_err *err)
{
	uint64_t file_end;
	uint8_t *dst;

	if (ph->p_filesz > ph->p_memsz)
		return lv_err_set(err, "ELF segment %u: file size %#llx exceeds memory size %#llx",
				  idx, (unsigned long long)ph->p_filesz,
				  (unsigned long long)ph->p_memsz);
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &file_end) || file_end > size)
		return lv_err_set(err, "ELF segment %u: bytes at offset %#llx run past the end "
				  "of the file", idx, (unsigned long long)ph->p_offset);
	dst = gm_range(gm, ph->p_paddr, ph->p_memsz);
	if (!dst)
		return lv_err_set(err, "guest larger than its memory: ELF segment %u at "
				  "guest-physical %#llx (%#llx bytes) does not fit in %llu KiB "
				  "of RAM; give more --mem", idx,
				  (unsigned long long)ph->p_paddr,
				  (unsigned long long)ph->p_memsz,
				  (unsigned long long)(gm->size >> 10));
	memcpy(dst, file + ph->p_offset, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	return 0;
}

int image_load_elf(const uint8_t *file, size_t size, const struct guest_mem *gm,
		   struct guest_image *img, struct lv_err *err)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	unsigned loaded = 0;

	if (size < sizeof(*eh) || !image_is_elf(file, size))
		return lv_err_set(err, "not an ELF file (for a raw binary use --format flat)");
	if (check_elf_header(eh, size, err) < 0)
		return -1;
	img->end = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, file + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (load_segment(file, size, &ph, i, gm, err) < 0)
			return -1;
		if (ph.p_paddr + ph.p_memsz > img->end)
			img->end = ph.p_paddr + ph.p_memsz;
		loaded++;
	}
	if (!loaded)
		return lv_err_set(err, "ELF file has no loadable segment");
	if (!gm_range(gm, eh->e_entry, 1))
		return lv_err_set(err, "ELF entry point %#llx is outside guest memory",
				  (unsigned long long)eh->e_entry);
	img->entry = eh->e_entry;
	return 0;
}

int image_load_flat(const uint8_t *file, size_t size, const struct guest_mem *gm,
		    struct guest_image *img, struct lv_err *err)
{
	if (size == 0)
		return lv_err_set(err, "flat guest image is empty");
	if (!gm_copy_out(gm, 0, file, size))
		return lv_err_set(err, "guest larger than its memory: flat image of %zu bytes "
				  "does not fit in %llu KiB of RAM; give more --mem",
				  size, (unsigned long long)(gm->size >> 10));
	img->entry = 0;
	img->end = size;
	return 0;
}
