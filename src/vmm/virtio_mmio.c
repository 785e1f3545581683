#include "virtio_mmio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Register offsets (virtio 1.x, 4.2.2). */
enum {
	REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010, REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020, REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080, REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090, REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0, REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_CONFIG_GENERATION = 0x0fc, REG_CONFIG = 0x100,
};

#define MAGIC      0x74726976   /* "virt" */
#define VENDOR_ID  0x4c56       /* "LV" */
#define INT_VRING  1u
#define INT_CONFIG 2u

static void register_ioeventfd(struct virtio_mmio *t)
{
	struct kvm_ioeventfd io = {
		.addr = t->base + REG_QUEUE_NOTIFY, .len = 4, .fd = t->notify_fd,
	};

	t->ioeventfd = ioctl(t->vm_fd, KVM_IOEVENTFD, &io) == 0;
}

static void register_irqfd(struct virtio_mmio *t)
{
	struct kvm_irqfd irqfd = { .gsi = t->irq };

	t->irq_fd = eventfd(0, EFD_CLOEXEC);
	if (t->irq_fd < 0)
		return;
	irqfd.fd = (uint32_t)t->irq_fd;
	if (ioctl(t->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		close(t->irq_fd);
		t->irq_fd = -1;
	}
}

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_device_ops *ops, void *dev,
		     int vm_fd, const struct guest_mem *gm, uint64_t base, unsigned irq,
		     struct lv_err *err)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->dev = dev;
	t->gm = gm;
	t->vm_fd = vm_fd;
	t->base = base;
	t->irq = irq;
	t->irq_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	t->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->notify_fd < 0)
		return lv_err_sys(err, errno, "%s: eventfd", ops->name);
	if (vm_fd >= 0) {
		register_ioeventfd(t);
		register_irqfd(t);
	}
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	if (t->notify_fd >= 0)
		close(t->notify_fd);
	t->irq_fd = t->notify_fd = -1;
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_cmdline(const struct virtio_mmio *t, char *buf, size_t size)
{
	snprintf(buf, size, "virtio_mmio.device=4K@%#llx:%u", (unsigned long long)t->base, t->irq);
}

static void raise_irq(struct virtio_mmio *t)
{
	uint64_t one = 1;

	if (t->irq_fd >= 0 && write(t->irq_fd, &one, sizeof(one)) == sizeof(one))
		return;
	if (t->vm_fd >= 0) {
		struct kvm_irq_level lvl = { .irq = t->irq, .level = 1 };

		ioctl(t->vm_fd, KVM_IRQ_LINE, &lvl);
		lvl.level = 0;
		ioctl(t->vm_fd, KVM_IRQ_LINE, &lvl);
	}
}

void virtio_mmio_interrupt(struct virtio_mmio *t)
{
	t->isr |= INT_VRING;
	raise_irq(t);
}

void virtio_mmio_fail(struct virtio_mmio *t, unsigned i, const char *why)
{
	if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	t->broken_count++;
	fprintf(stderr, "labvisor: %s at %#llx, queue %u: %s; the device needs a reset by its "
		"driver\n", t->ops->name, (unsigned long long)t->base, i, why);
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	t->isr |= INT_CONFIG;
	t->config_gen++;
	raise_irq(t);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned i)
{
	if (i >= t->ops->nqueues || !t->vq[i].ready ||
	    (t->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ||
	    !(t->status & VIRTIO_STATUS_DRIVER_OK))
		return NULL;
	return &t->vq[i];
}

void virtio_mmio_drain_notify(struct virtio_mmio *t)
{
	uint64_t v;

	while (read(t->notify_fd, &v, sizeof(v)) == sizeof(v))
		;
}

static void device_reset(struct virtio_mmio *t)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vq_reset(&t->vq[i]);
	t->status = t->isr = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->driver_features = 0;
	t->config_gen++;
	t->ops->reset(t->dev);
}

static uint64_t offered(const struct virtio_mmio *t)
{
	return t->ops->features | VIRTIO_F_VERSION_1;
}

static struct virtq *selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->nqueues ? &t->vq[t->queue_sel] : NULL;
}

static unsigned queue_max(const struct virtio_mmio *t)
{
	return t->ops->queue_max ? t->ops->queue_max : VQ_MAX_SIZE;
}

static uint32_t read_reg(struct virtio_mmio *t, unsigned off)
{
	struct virtq *q = selected(t);

	switch (off) {
	case REG_MAGIC:             return MAGIC;
	case REG_VERSION:           return 2;
	case REG_DEVICE_ID:         return t->ops->device_id;
	case REG_VENDOR_ID:         return VENDOR_ID;
	case REG_DEVICE_FEATURES:
		return t->dev_feat_sel < 2 ? (uint32_t)(offered(t) >> (32 * t->dev_feat_sel)) : 0;
	case REG_QUEUE_NUM_MAX:     return q ? queue_max(t) : 0;
	case REG_QUEUE_READY:       return q && q->ready;
	case REG_INTERRUPT_STATUS:  return t->isr;
	case REG_STATUS:            return t->status;
	case REG_CONFIG_GENERATION: return t->config_gen;
	default:                    return 0;
	}
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffull) | ((uint64_t)val << 32)
		  : (*v & ~0xffffffffull) | val;
}

/* FEATURES_OK only for a subset of what was offered, with VERSION_1. */
static void write_status(struct virtio_mmio *t, uint32_t val)
{
	if (val == 0) {
		device_reset(t);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((t->driver_features & ~offered(t)) || !(t->driver_features & VIRTIO_F_VERSION_1)))
		val &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	/* the device's own bit stays until the reset */
	t->status = (val & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET) |
		    (t->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void write_queue_ready(struct virtio_mmio *t, struct virtq *q, uint32_t val)
{
	char why[200];

	if (!val) {
		q->ready = false;
		return;
	}
	if (q->size > queue_max(t)) {
		snprintf(why, sizeof(why), "queue size %u is above QueueNumMax %u", q->size,
			 queue_max(t));
		virtio_mmio_fail(t, t->queue_sel, why);
		return;
	}
	if (vq_activate(q, t->gm, why, sizeof(why)) < 0) {
		virtio_mmio_fail(t, t->queue_sel, why);
		return;
	}
	q->ready = true;
}

static void write_reg(struct virtio_mmio *t, unsigned off, uint32_t val)
{
	struct virtq *q = selected(t);
	bool live = q && !q->ready;     /* queue registers change only while not ready */
	uint64_t one = 1;

	switch (off) {
	case REG_DEVICE_FEATURES_SEL: t->dev_feat_sel = val; return;
	case REG_DRIVER_FEATURES_SEL: t->drv_feat_sel = val; return;
	case REG_DRIVER_FEATURES:
		if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
			set_half(&t->driver_features, t->drv_feat_sel == 1, val);
		}
		return;
	case REG_QUEUE_SEL:         t->queue_sel = val; return;
	case REG_QUEUE_NUM:         if (live) q->size = (uint16_t)(val > 0xffff ? 0 : val); return;
	case REG_QUEUE_READY:       if (q) write_queue_ready(t, q, val); return;
	case REG_QUEUE_NOTIFY:
		if (write(t->notify_fd, &one, sizeof(one)) < 0) {
			/* the counter is full: the device thread is already due to look */
		}
		return;
	case REG_INTERRUPT_ACK:     t->isr &= ~val; return;
	case REG_STATUS:            write_status(t, val); return;
	case REG_QUEUE_DESC_LOW:    if (live) set_half(&q->desc_gpa, false, val); return;
	case REG_QUEUE_DESC_HIGH:   if (live) set_half(&q->desc_gpa, true, val); return;
	case REG_QUEUE_DRIVER_LOW:  if (live) set_half(&q->avail_gpa, false, val); return;
	case REG_QUEUE_DRIVER_HIGH: if (live) set_half(&q->avail_gpa, true, val); return;
	case REG_QUEUE_DEVICE_LOW:  if (live) set_half(&q->used_gpa, false, val); return;
	case REG_QUEUE_DEVICE_HIGH: if (live) set_half(&q->used_gpa, true, val); return;
	default:                    return;     /* read-only or unknown: ignored */
	}
}

bool virtio_mmio_access(struct virtio_mmio *t, uint64_t gpa, bool is_write, uint8_t *data,
			unsigned len)
{
	unsigned off;
	uint32_t v = 0;

	if (gpa < t->base || gpa - t->base >= VIRTIO_MMIO_SIZE)
		return false;
	off = (unsigned)(gpa - t->base);
	pthread_mutex_lock(&t->lock);
	if (off >= REG_CONFIG) {
		if (!is_write && len <= 8)
			t->ops->config_read(t->dev, off - REG_CONFIG, data, len);
		/* configuration writes: no device of ours has writable fields */
	} else if (len != 4 || (off & 3)) {
		if (!is_write)
			memset(data, 0, len);   /* registers are 32-bit only (4.2.2.2) */
	} else if (is_write) {
		memcpy(&v, data, 4);
		write_reg(t, off, v);
	} else {
		v = read_reg(t, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
	return true;
}
