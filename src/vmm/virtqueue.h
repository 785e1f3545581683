/*
 * Split virtqueues (virtio 1.x, section 2.7), device side.  Everything the
 * driver writes -- ring addresses, the avail index, descriptor indices,
 * chain lengths, buffer addresses and lengths -- is checked here, and every
 * buffer is turned into a host pointer by gm_range() only.  A violation
 * makes vq_pop() fail with the reason; the device then needs a reset
 * (virtio_mmio.c) and the VMM carries on.
 *
 * Not offered, so refused when seen: indirect descriptors, event index.
 */
#ifndef LV_VMM_VIRTQUEUE_H
#define LV_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define VQ_MAX_SIZE 256

#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vring_used_elem {
	uint32_t id, len;
};

struct virtq {
	/* set by the driver through the transport's registers */
	uint16_t size;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* resolved by vq_activate() */
	struct vring_desc *desc;
	uint16_t *avail;        /* flags, idx, ring[size] */
	uint16_t *used;         /* flags, idx, then the elements */
	uint16_t last_avail;    /* the next avail entry to take */
	uint16_t used_idx;      /* our copy of used->idx */
};

/* One buffer of a chain, already checked: `len` bytes at host `p`. */
struct vq_buf {
	uint8_t *p;
	uint32_t len;
};

/* A chain taken from the avail ring: device-readable buffers first, then
 * device-writable ones (the spec's order, enforced). */
struct vq_chain {
	uint16_t head;
	unsigned nread, nwrite;
	uint64_t read_len, write_len;
	struct vq_buf buf[VQ_MAX_SIZE];
};

/* Checks the queue's size and ring addresses; 0, or -1 with `why`. */
int vq_activate(struct virtq *q, const struct guest_mem *gm, char *why, size_t whylen);
void vq_reset(struct virtq *q);

/* 1: a chain was taken; 0: nothing available; -1: the driver broke the queue
 * (`why` says how).  Only for an activated queue. */
int vq_pop(struct virtq *q, const struct guest_mem *gm, struct vq_chain *c, char *why,
	   size_t whylen);
/* Returns a chain to the driver with `written` bytes written into it. */
void vq_push(struct virtq *q, uint16_t head, uint32_t written);
/* Whether the driver has buffers waiting (without taking them). */
bool vq_has_avail(const struct virtq *q);

/* Copies out of the readable part / into the writable part of a chain, from
 * byte `off` of that part; returns the bytes copied (short at its end). */
size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len);
size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len);

#endif
