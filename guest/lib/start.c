#include "labvisor/guest.h"

uint64_t lv_virtio_base;

void lv_start(unsigned id, unsigned count, uint64_t virtio_base);

void lv_start(unsigned id, unsigned count, uint64_t virtio_base)
{
	int ret;

	(void)count;
	lv_virtio_base = virtio_base;
	ret = main();
	if (id == 0)
		lv_exit(ret);
	lv_halt((uint64_t)(int64_t)ret);
}
