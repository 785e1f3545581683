/* Unit tests of the allocator, reported in TAP. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

static int n;

static void report(int ok, const char *name)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n, name);
}

static int basic(void)
{
	char *p = my_malloc(100), *q = my_malloc(100);

	if (!p || !q || p == q)
		return 0;
	memset(p, 1, 100);
	memset(q, 2, 100);
	return p[99] == 1 && q[0] == 2;
}

static int reuse(void)
{
	/* 200 rounds of 1000 KiB-sized blocks: 200 MiB in all, far more than a
	 * run may hold at once (--mem 128) unless freed memory is reused. */
	for (int round = 0; round < 200; round++) {
		void *b[1000];

		for (int i = 0; i < 1000; i++)
			if (!(b[i] = my_malloc(1024)))
				return 0;
		for (int i = 0; i < 1000; i++)
			my_free(b[i]);
	}
	return 1;
}

static int alignment(void)
{
	for (size_t s = 1; s < 200; s += 7) {
		void *p = my_malloc(s);

		if (!p || (uintptr_t)p % 16)
			return 0;
	}
	return 1;
}

static int large(void)
{
	char *p = my_malloc(8u << 20);

	if (!p)
		return 0;
	memset(p, 7, 8u << 20);
	my_free(p);
	return 1;
}

static int calloc_zeroes(void)
{
	for (int i = 0; i < 50; i++) {
		unsigned char *p = my_malloc(4096);

		if (!p)
			return 0;
		memset(p, 0xff, 4096);
		my_free(p);
		p = my_calloc(64, 64);
		for (int j = 0; p && j < 4096; j++)
			if (p[j])
				return 0;
		my_free(p);
	}
	return 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("1..6\n");
	report(basic(), "basic malloc");
	report(reuse(), "free and reuse");
	report(alignment(), "alignment");
	report(my_malloc(0) == NULL, "zero size");
	report(large(), "large block");
	report(calloc_zeroes(), "calloc zeroes");
	return 0;
}
