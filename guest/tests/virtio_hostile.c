/*
 * A hostile virtio driver (run with `vm run --vsock`): it breaks the vsock
 * device's queues in every way the VMM must survive, checks that each time
 * the device asks for a reset (DEVICE_NEEDS_RESET) instead of the VMM
 * stopping, then resets it and uses it properly: a connection request to a
 * host port nobody serves must come back as a reset packet.  Exit 0 = all
 * of that held.
 */
#include "labvisor/guest.h"

#define REG(off) (*(volatile uint32_t *)(uintptr_t)(lv_virtio_base + (off)))
#define QSIZE 8

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], event; };
struct used { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t event; };
struct queue {
	struct desc desc[QSIZE] __attribute__((aligned(16)));
	struct avail avail __attribute__((aligned(2)));
	struct used used __attribute__((aligned(4)));
};
struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static struct queue q[3] __attribute__((aligned(4096)));
static uint8_t bufs[QSIZE][256];

static void set_queue(unsigned i, uint64_t desc, uint64_t avail, uint64_t used)
{
	REG(0x030) = i;
	REG(0x038) = QSIZE;
	REG(0x080) = (uint32_t)desc;
	REG(0x084) = (uint32_t)(desc >> 32);
	REG(0x090) = (uint32_t)avail;
	REG(0x094) = (uint32_t)(avail >> 32);
	REG(0x0a0) = (uint32_t)used;
	REG(0x0a4) = (uint32_t)(used >> 32);
	REG(0x044) = 1;
}

/* reset, negotiate VERSION_1 */
static int negotiate(void)
{
	REG(0x070) = 0;
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *p = (uint8_t *)&q[i];

		for (unsigned k = 0; k < sizeof(q[i]); k++)
			p[k] = 0;
	}
	REG(0x070) = 1 | 2;
	REG(0x024) = 1;
	REG(0x020) = 1;                 /* VIRTIO_F_VERSION_1 */
	REG(0x024) = 0;
	REG(0x020) = 0;
	REG(0x070) = 1 | 2 | 8;
	return REG(0x070) & 8 ? 0 : -1;
}

/* ... then three queues and DRIVER_OK */
static int init(void)
{
	if (negotiate() < 0)
		return -1;
	for (unsigned i = 0; i < 3; i++)
		set_queue(i, (uintptr_t)q[i].desc, (uintptr_t)&q[i].avail, (uintptr_t)&q[i].used);
	REG(0x070) = 1 | 2 | 8 | 4;
	return 0;
}

static void offer(unsigned qi, uint16_t head)
{
	struct avail *a = &q[qi].avail;

	a->ring[a->idx % QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	a->idx++;
	REG(0x050) = qi;
}

/* Spins until the device wants a reset (the VMM's thread looks at once). */
static int wait_needs_reset(const char *what)
{
	for (unsigned long i = 0; i < 2000000; i++)
		if (REG(0x070) & 0x40) {
			lv_printf("needs reset after %s\n", what);
			return 0;
		}
	lv_printf("FAIL: no DEVICE_NEEDS_RESET after %s\n", what);
	return -1;
}

static int attack(const char *what, unsigned qi, void (*setup)(void))
{
	if (init() < 0) {
		lv_printf("FAIL: feature negotiation\n");
		return -1;
	}
	setup();
	(void)qi;
	return wait_needs_reset(what);
}

static void bad_index(void) { offer(1, 200); }

static void loop_chain(void)
{
	q[1].desc[0] = (struct desc){ (uintptr_t)bufs[0], 64, 1, 1 };
	q[1].desc[1] = (struct desc){ (uintptr_t)bufs[1], 64, 1, 0 };
	offer(1, 0);
}

static void wild_buffer(void)
{
	q[1].desc[0] = (struct desc){ 0xffffffffff000000ull, 4096, 0, 0 };
	offer(1, 0);
}

static void wrapping_buffer(void)
{
	q[1].desc[0] = (struct desc){ 0xfffffffffffff000ull, 0x2000, 0, 0 };
	offer(1, 0);
}

static void index_jump(void)
{
	q[1].avail.idx = 1000;
	REG(0x050) = 1;
}

static void short_packet(void)
{
	q[1].desc[0] = (struct desc){ (uintptr_t)bufs[0], 10, 0, 0 };
	offer(1, 0);
}

static void lying_length(void)
{
	struct hdr *h = (struct hdr *)bufs[0];

	*h = (struct hdr){ .src_cid = 3, .dst_cid = 2, .len = 100000, .type = 1, .op = 5 };
	q[1].desc[0] = (struct desc){ (uintptr_t)bufs[0], sizeof(*h), 0, 0 };
	offer(1, 0);
}

static void indirect(void)
{
	q[1].desc[0] = (struct desc){ (uintptr_t)bufs[0], 64, 4, 0 };
	offer(1, 0);
}

static void ring_outside(void)
{
	negotiate();
	set_queue(0, 0x7ffffff000ull, (uintptr_t)&q[0].avail, (uintptr_t)&q[0].used);
}

static void tiny_rx_buffer(void)
{
	struct hdr *h = (struct hdr *)bufs[1];

	q[0].desc[0] = (struct desc){ (uintptr_t)bufs[0], 8, 2, 0 };      /* writable, 8 bytes */
	offer(0, 0);
	/* a packet to a port nobody serves: the device owes a reset packet */
	*h = (struct hdr){ .src_cid = 3, .dst_cid = 2, .src_port = 7, .dst_port = 9, .type = 1,
			   .op = 1, .buf_alloc = 4096 };
	q[1].desc[0] = (struct desc){ (uintptr_t)bufs[1], sizeof(*h), 0, 0 };
	offer(1, 0);
}

static void oversized_queue(void)
{
	negotiate();
	REG(0x030) = 1;
	REG(0x038) = REG(0x034) * 2;    /* twice QueueNumMax */
	REG(0x044) = 1;
}

/* After all that: the device still works. */
static int honest_use(void)
{
	struct hdr *h = (struct hdr *)bufs[1], *reply = (struct hdr *)bufs[0];

	if (init() < 0)
		return -1;
	q[0].desc[0] = (struct desc){ (uintptr_t)bufs[0], sizeof(bufs[0]), 2, 0 };
	offer(0, 0);
	*h = (struct hdr){ .src_cid = 3, .dst_cid = 2, .src_port = 4000, .dst_port = 4444,
			   .type = 1, .op = 1, .buf_alloc = 4096 };
	q[1].desc[0] = (struct desc){ (uintptr_t)bufs[1], sizeof(*h), 0, 0 };
	offer(1, 0);
	for (unsigned long i = 0; i < 20000000; i++)
		if (*(volatile uint16_t *)&q[0].used.idx == 1) {
			lv_printf("honest request answered: op %u from port %u to port %u, "
				  "%u bytes\n", reply->op, reply->src_port, reply->dst_port,
				  q[0].used.ring[0].len);
			return reply->op == 3 && reply->dst_port == 4000 ? 0 : -1;
		}
	lv_printf("FAIL: no answer on the receive queue\n");
	return -1;
}

int main(void)
{
	int bad = 0;

	if (!lv_virtio_base || REG(0) != 0x74726976 || REG(4) != 2 || REG(8) != 19) {
		lv_printf("FAIL: no virtio-vsock device (run with --vsock)\n");
		return 1;
	}
	bad |= attack("a descriptor index beyond the queue", 1, bad_index);
	bad |= attack("a descriptor chain that loops", 1, loop_chain);
	bad |= attack("a buffer outside guest RAM", 1, wild_buffer);
	bad |= attack("a buffer whose end wraps around", 1, wrapping_buffer);
	bad |= attack("an avail index 1000 ahead", 1, index_jump);
	bad |= attack("a packet shorter than its header", 1, short_packet);
	bad |= attack("a header claiming more bytes than sent", 1, lying_length);
	bad |= attack("an indirect descriptor", 1, indirect);
	bad |= attack("a descriptor ring outside guest RAM", 0, ring_outside);
	bad |= attack("a receive buffer smaller than a header", 0, tiny_rx_buffer);
	bad |= attack("a queue larger than QueueNumMax", 1, oversized_queue);
	bad |= honest_use();
	lv_printf(bad ? "hostile driver: FAILED\n" : "hostile driver: the device survived\n");
	return bad ? 1 : 0;
}
