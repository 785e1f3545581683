#include "labvisor/guest.h"

void lv_start(unsigned id, unsigned count);

void lv_start(unsigned id, unsigned count)
{
	int ret;

	(void)count;
	ret = main();
	if (id == 0)
		lv_exit(ret);
	lv_halt((uint64_t)(int64_t)ret);
}
