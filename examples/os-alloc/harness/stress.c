/*
 * Stress run: reads "a SLOT SIZE" (allocate), "f SLOT" (free), "c SLOT"
 * (print a checksum of the slot's bytes) from stdin.  Every allocated block
 * is filled with a pattern of its slot, so blocks that overlap show up as
 * wrong checksums.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"

#define SLOTS 4096

static unsigned char *slot[SLOTS];
static size_t len[SLOTS];

int main(void)
{
	char op;
	unsigned s;
	size_t size;

	while (scanf(" %c %u", &op, &s) == 2 && s < SLOTS) {
		if (op == 'a' && scanf("%zu", &size) == 1) {
			my_free(slot[s]);
			slot[s] = my_malloc(size);
			len[s] = slot[s] ? size : 0;
			if (slot[s])
				memset(slot[s], (int)(s * 37 + 11) & 0xff, size);
			else
				printf("null %u\n", s);
		} else if (op == 'f') {
			my_free(slot[s]);
			slot[s] = NULL;
			len[s] = 0;
		} else if (op == 'c') {
			unsigned long sum = 0;

			for (size_t i = 0; i < len[s]; i++)
				sum = sum * 31 + slot[s][i];
			printf("%u %zu %lu\n", s, len[s], sum);
		}
	}
	return 0;
}
