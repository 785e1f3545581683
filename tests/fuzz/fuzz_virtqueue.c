/*
 * libFuzzer target: the split-virtqueue parser (src/vmm/virtqueue.c) on
 * synthetic guest memory that the input fills: a queue configuration in the
 * first 32 bytes, then 64 KiB of "guest RAM" holding the rings and buffers.
 * Every chain taken is read and written end to end; ASan and UBSan watch.
 *
 *   build/tests/fuzz_virtqueue -max_total_time=30 tests/fuzz/corpus
 */
#include <stdint.h>
#include <string.h>

#include "vmm/virtqueue.h"

#define RAM (64u << 10)

static uint8_t ram[RAM];
static struct vq_chain chain;
static uint8_t scratch[RAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct guest_mem gm = { ram, RAM };
	struct virtq q = { 0 };
	uint64_t cfg[4] = { 0 };
	char why[200];

	memcpy(cfg, data, size < sizeof(cfg) ? size : sizeof(cfg));
	q.size = (uint16_t)cfg[0];
	q.desc_gpa = cfg[1];
	q.avail_gpa = cfg[2];
	q.used_gpa = cfg[3];
	memset(ram, 0, RAM);
	if (size > sizeof(cfg))
		memcpy(ram, data + sizeof(cfg), size - sizeof(cfg) < RAM ? size - sizeof(cfg) : RAM);
	if (vq_activate(&q, &gm, why, sizeof(why)) < 0)
		return 0;
	for (unsigned n = 0; n < 2 * VQ_MAX_SIZE; n++) {
		int rc = vq_pop(&q, &gm, &chain, why, sizeof(why));

		if (rc <= 0)
			break;
		/* buffers may overlap, so a chain can hold more than RAM */
		vq_chain_read(&chain, 0, scratch, chain.read_len < RAM ? chain.read_len : RAM);
		vq_chain_write(&chain, 0, scratch, chain.write_len < RAM ? chain.write_len : RAM);
		vq_push(&q, chain.head, (uint32_t)chain.write_len);
	}
	return 0;
}
