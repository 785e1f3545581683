/*
 * KVM's binary statistics (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst
 * section 4.133): a header, descriptors with names, then 64-bit values.
 * We look the descriptors up once per vCPU; afterwards one pread() of the
 * values region gives every counter we show.
 */
#include "exit_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm.h"

static const char *const wanted[KVM_STATS_WANTED] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
	"signal_exits", "irq_window_exits", "nmi_window_exits",
	"insn_emulation", "insn_emulation_fail", "hypercalls", "request_irq_exits",
};

static void find_wanted(struct kvm_stats_reader *r, const struct kvm_stats_header *h,
			const uint8_t *descs)
{
	size_t desc_size = sizeof(struct kvm_stats_desc) + h->name_size;

	for (uint32_t i = 0; i < h->num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(descs + i * desc_size);

		if (d->size < 1)
			continue;
		for (unsigned w = 0; w < KVM_STATS_WANTED && r->n < KVM_STATS_WANTED; w++) {
			if (strncmp(d->name, wanted[w], h->name_size) == 0) {
				r->field[r->n].name = wanted[w];
				r->field[r->n].offset = d->offset;
				r->n++;
				if (d->offset + sizeof(uint64_t) > r->data_len)
					r->data_len = d->offset + sizeof(uint64_t);
			}
		}
	}
}

void kvm_stats_open(struct kvm_stats_reader *r, int vcpu_fd)
{
	struct kvm_stats_header h;
	uint8_t *descs;
	size_t len;

	r->n = 0;
	r->data = NULL;
	r->data_len = 0;
	r->fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (r->fd < 0)
		return;
	if (pread(r->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.name_size == 0 || h.name_size > 4096 || h.num_desc > 65536)
		goto fail;
	len = (size_t)h.num_desc * (sizeof(struct kvm_stats_desc) + h.name_size);
	descs = malloc(len);
	if (!descs)
		goto fail;
	if (pread(r->fd, descs, len, h.desc_offset) == (ssize_t)len)
		find_wanted(r, &h, descs);
	free(descs);
	r->data_offset = h.data_offset;
	if (r->n && r->data_len <= (1u << 20) && (r->data = malloc(r->data_len)))
		return;
fail:
	kvm_stats_close(r);
}

void kvm_stats_close(struct kvm_stats_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->data);
	r->data = NULL;
	r->fd = -1;
}

static void add_value(struct vmm_stats *sum, const char *name, uint64_t v)
{
	for (unsigned i = 0; i < sum->nkvm; i++) {
		if (strcmp(sum->kvm[i].name, name) == 0) {
			sum->kvm[i].value += v;
			return;
		}
	}
	if (sum->nkvm < VMM_KVM_COUNTERS) {
		strncpy(sum->kvm[sum->nkvm].name, name, sizeof(sum->kvm[0].name) - 1);
		sum->kvm[sum->nkvm++].value = v;
	}
}

void kvm_stats_add_to(const struct kvm_stats_reader *r, struct vmm_stats *sum)
{
	if (r->fd < 0 || pread(r->fd, r->data, r->data_len, (off_t)r->data_offset) !=
			 (ssize_t)r->data_len)
		return;
	for (unsigned i = 0; i < r->n; i++) {
		uint64_t v;

		memcpy(&v, (const uint8_t *)r->data + r->field[i].offset, sizeof(v));
		add_value(sum, r->field[i].name, v);
	}
}
