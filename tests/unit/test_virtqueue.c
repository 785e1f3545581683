/* The split-virtqueue parser against crafted rings in synthetic guest memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/virtqueue.h"

#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define BUF   0x4000

static uint8_t ram[0x8000];
static const struct guest_mem gm = { ram, sizeof(ram) };
static char why[200];

static struct vring_desc *desc(unsigned i) { return (struct vring_desc *)(ram + DESC) + i; }
static uint16_t *avail(void) { return (uint16_t *)(ram + AVAIL); }

static struct virtq queue(uint16_t size)
{
	struct virtq q = { .size = size, .desc_gpa = DESC, .avail_gpa = AVAIL, .used_gpa = USED };

	memset(ram, 0, sizeof(ram));
	assert_int_equal(vq_activate(&q, &gm, why, sizeof(why)), 0);
	return q;
}

static void offer(uint16_t head)
{
	avail()[2 + avail()[1] % 8] = head;
	avail()[1]++;
}

static void a_good_chain(void **state)
{
	struct virtq q = queue(8);
	static struct vq_chain c;
	uint8_t out[5];

	(void)state;
	memcpy(ram + BUF, "hello", 5);
	*desc(0) = (struct vring_desc){ BUF, 5, VRING_DESC_F_NEXT, 3 };
	*desc(3) = (struct vring_desc){ BUF + 0x100, 64, VRING_DESC_F_WRITE, 0 };
	assert_int_equal(vq_pop(&q, &gm, &c, why, sizeof(why)), 0);    /* nothing offered */
	offer(0);
	assert_true(vq_has_avail(&q));
	assert_int_equal(vq_pop(&q, &gm, &c, why, sizeof(why)), 1);
	assert_int_equal(c.nread, 1);
	assert_int_equal(c.nwrite, 1);
	assert_int_equal(vq_chain_read(&c, 0, out, 5), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(vq_chain_write(&c, 60, "abcdef", 6), 4);    /* short at its end */
	assert_memory_equal(ram + BUF + 0x100 + 60, "abcd", 4);
	vq_push(&q, c.head, 4);
	assert_int_equal(((uint16_t *)(ram + USED))[1], 1);
	assert_int_equal(*(uint32_t *)(ram + USED + 4), 0);
	assert_int_equal(*(uint32_t *)(ram + USED + 8), 4);
	assert_false(vq_has_avail(&q));
}

static void expect_broken(struct virtq *q, const char *what)
{
	static struct vq_chain c;

	assert_int_equal(vq_pop(q, &gm, &c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, what));
}

static void broken_chains(void **state)
{
	struct virtq q;

	(void)state;
	q = queue(8);
	offer(8);
	expect_broken(&q, "outside a queue of 8");
	q = queue(8);
	*desc(0) = (struct vring_desc){ BUF, 1, VRING_DESC_F_NEXT, 9 };
	offer(0);
	expect_broken(&q, "descriptor index 9");
	q = queue(8);
	*desc(0) = (struct vring_desc){ BUF, 1, VRING_DESC_F_NEXT, 1 };
	*desc(1) = (struct vring_desc){ BUF, 1, VRING_DESC_F_NEXT, 0 };
	offer(0);
	expect_broken(&q, "loop");
	q = queue(8);
	*desc(0) = (struct vring_desc){ sizeof(ram) - 4, 8, 0, 0 };
	offer(0);
	expect_broken(&q, "outside guest RAM");
	q = queue(8);
	*desc(0) = (struct vring_desc){ UINT64_MAX - 2, 8, 0, 0 };
	offer(0);
	expect_broken(&q, "outside guest RAM");
	q = queue(8);
	*desc(0) = (struct vring_desc){ BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	*desc(1) = (struct vring_desc){ BUF, 8, 0, 0 };
	offer(0);
	expect_broken(&q, "readable buffer after a writable");
	q = queue(8);
	*desc(0) = (struct vring_desc){ BUF, 16, VRING_DESC_F_INDIRECT, 0 };
	offer(0);
	expect_broken(&q, "indirect");
	q = queue(8);
	avail()[1] = 9;
	expect_broken(&q, "ahead");
}

static void bad_rings(void **state)
{
	struct virtq q = { .size = 6, .desc_gpa = DESC, .avail_gpa = AVAIL, .used_gpa = USED };

	(void)state;
	assert_int_equal(vq_activate(&q, &gm, why, sizeof(why)), -1);     /* not a power of 2 */
	q.size = 512;
	assert_int_equal(vq_activate(&q, &gm, why, sizeof(why)), -1);     /* too big */
	q.size = 8;
	q.desc_gpa = DESC + 8;
	assert_int_equal(vq_activate(&q, &gm, why, sizeof(why)), -1);     /* misaligned */
	q.desc_gpa = sizeof(ram) - 64;
	assert_int_equal(vq_activate(&q, &gm, why, sizeof(why)), -1);     /* past the end */
	assert_non_null(strstr(why, "outside guest RAM"));
	q.desc_gpa = DESC;
	q.used_gpa = UINT64_MAX - 3;
	assert_int_equal(vq_activate(&q, &gm, why, sizeof(why)), -1);     /* wraps */
}

static void index_wraps_at_16_bits(void **state)
{
	struct virtq q = queue(8);
	static struct vq_chain c;

	(void)state;
	*desc(0) = (struct vring_desc){ BUF, 1, 0, 0 };
	q.last_avail = 0xffff;
	avail()[1] = 0xffff;
	offer(0);                       /* avail index 0xffff -> 0 */
	assert_int_equal(vq_pop(&q, &gm, &c, why, sizeof(why)), 1);
	assert_int_equal(q.last_avail, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_chain),
		cmocka_unit_test(broken_chains),
		cmocka_unit_test(bad_rings),
		cmocka_unit_test(index_wraps_at_16_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
