#ifndef LV_VMM_PC_IO_H
#define LV_VMM_PC_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "serial8250.h"

struct pc_io {
	struct serial8250 uart;
	uint8_t cmos_index;
};

enum pc_io_event { PC_IO_DONE, PC_IO_RESET };

void pc_io_init(struct pc_io *io, int vm_fd, int console_fd);
/* One port access of `size` bytes (data: KVM's buffer); PC_IO_RESET when the
 * guest asked the i8042 to reset the machine. */
enum pc_io_event pc_io(struct pc_io *io, uint16_t port, bool is_write, uint8_t *data,
		       unsigned size);

#endif
