/* The interface students implement in mymalloc.c. */
#include <stddef.h>

void *my_malloc(size_t size);            /* 16-byte aligned; NULL for size 0 or no memory */
void my_free(void *p);                   /* NULL is allowed */
void *my_calloc(size_t n, size_t size);  /* zeroed */
