/*
 * The virtio-mmio transport, version 2 (virtio 1.x, section 4.2): the
 * register window of one device, its feature negotiation, status, queues
 * and interrupt.  Devices (virtio_vsock.c) give a table of operations and
 * do their queue work on their own thread, woken through `notify_fd`.
 *
 * Linux finds the device through its command line:
 *   virtio_mmio.device=4K@<base>:<irq>          (virtio_mmio_cmdline()).
 *
 * Notifications: a KVM ioeventfd on QueueNotify when the host has them
 * (the vCPU does not even leave the kernel), else the vCPU thread signals
 * notify_fd itself.  Interrupts: a KVM irqfd, else KVM_IRQ_LINE pulses.
 *
 * A driver that breaks a queue gets the device marked DEVICE_NEEDS_RESET
 * (and a configuration-change interrupt); nothing more happens on it until
 * the driver resets it.  The VMM never stops for a driver's mistake.
 */
#ifndef LV_VMM_VIRTIO_MMIO_H
#define LV_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "virtqueue.h"

#define VIRTIO_MMIO_SIZE      0x1000
#define VIRTIO_MAX_QUEUES     4
#define VIRTIO_F_VERSION_1    (1ull << 32)

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

struct virtio_device_ops {
	const char *name;               /* in messages: "virtio-vsock" */
	uint32_t device_id;
	uint64_t features;              /* offered; VIRTIO_F_VERSION_1 is added */
	unsigned nqueues;
	/* QueueNumMax: a driver fills its receive queues whole at probe time, so
	 * this is also the guest memory and boot time it spends (0: VQ_MAX_SIZE) */
	uint16_t queue_max;
	/* Bytes [off, off + len) of the configuration space (little-endian). */
	void (*config_read)(void *dev, unsigned off, void *data, unsigned len);
	/* The driver reset the device (transport lock held). */
	void (*reset)(void *dev);
};

struct virtio_mmio {
	const struct virtio_device_ops *ops;
	void *dev;
	const struct guest_mem *gm;
	int vm_fd;
	uint64_t base;
	unsigned irq;
	int notify_fd;                  /* eventfd: the driver notified a queue */
	int irq_fd;                     /* KVM irqfd, or -1 */
	bool ioeventfd;                 /* notify_fd is signalled by KVM itself */

	pthread_mutex_t lock;           /* everything below */
	uint32_t status, isr, dev_feat_sel, drv_feat_sel, queue_sel, config_gen;
	uint64_t driver_features;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	unsigned broken_count;          /* how many times a driver broke it */
};

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *ops, void *dev,
		     int vm_fd, const struct guest_mem *gm, uint64_t base, unsigned irq,
		     struct lv_err *err);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* The kernel command-line word announcing the device. */
void virtio_mmio_cmdline(const struct virtio_mmio *t, char *buf, size_t size);

/* A vCPU's access to guest-physical `gpa`; false when it is not this device's. */
bool virtio_mmio_access(struct virtio_mmio *t, uint64_t gpa, bool is_write, uint8_t *data,
			unsigned len);

/* With t->lock held: */
/* queue `i` when the driver made it ready and the device is live, else NULL */
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned i);
/* a used-buffer interrupt */
void virtio_mmio_interrupt(struct virtio_mmio *t);
/* the driver broke queue `i`: DEVICE_NEEDS_RESET, reported once per reset */
void virtio_mmio_fail(struct virtio_mmio *t, unsigned i, const char *why);

/* Waits for a notification (drains notify_fd); used by device threads. */
void virtio_mmio_drain_notify(struct virtio_mmio *t);

#endif
