/*
 * Wrong: calloc does not zero reused memory. Otherwise the reference allocator: an arena from mmap, blocks with a 16-byte header,
 * first-fit reuse of freed blocks (split when large enough), and a direct
 * mmap for very large requests.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"

#define ARENA (64u << 20)
#define HUGE (1u << 20)

struct block {
	size_t size;            /* payload bytes */
	struct block *next;     /* in the free list */
};

static unsigned char *arena, *top;
static struct block *free_list;

static size_t round16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

void *my_malloc(size_t size)
{
	struct block **pp, *b;

	if (size == 0)
		return NULL;
	size = round16(size);
	if (size >= HUGE) {
		b = mmap(NULL, size + sizeof(*b), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		b->size = size;
		return b + 1;
	}
	for (pp = &free_list; *pp; pp = &(*pp)->next) {
		b = *pp;
		if (b->size < size)
			continue;
		*pp = b->next;
		if (b->size >= size + sizeof(*b) + 16) {
			struct block *rest = (struct block *)((unsigned char *)(b + 1) + size);

			rest->size = b->size - size - sizeof(*b);
			rest->next = free_list;
			free_list = rest;
			b->size = size;
		}
		return b + 1;
	}
	if (!arena) {
		arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (arena == MAP_FAILED)
			return arena = NULL;
		top = arena;
	}
	if ((size_t)(arena + ARENA - top) < size + sizeof(*b))
		return NULL;
	b = (struct block *)top;
	b->size = size;
	top += size + sizeof(*b);
	return b + 1;
}

void my_free(void *p)
{
	struct block *b = (struct block *)p - 1;

	if (!p)
		return;
	if (b->size >= HUGE) {
		munmap(b, b->size + sizeof(*b));
		return;
	}
	b->next = free_list;
	free_list = b;
}

void *my_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = my_malloc(n * size);
	return p;       /* fresh mmap memory is zero; reused memory is not */
}
