#include "guest_mem.h"

#include <string.h>

void *gm_range(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end) || end > gm->size)
		return NULL;
	return gm->host + gpa;
}

bool gm_copy_in(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len)
{
	const void *src = gm_range(gm, gpa, len);

	if (!src)
		return false;
	memcpy(dst, src, len);
	return true;
}

bool gm_copy_out(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gm_range(gm, gpa, len);

	if (!dst)
		return false;
	memcpy(dst, src, len);
	return true;
}
