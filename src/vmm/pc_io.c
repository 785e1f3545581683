/*
 * The port I/O of a Linux guest's PC: the 8250 UART, a CMOS clock that
 * reads the host's time, the i8042's reset line, and an open bus (reads of
 * 0xff) everywhere else.  The in-kernel irqchip and PIT answer their own
 * ports without coming here.
 */
#include "pc_io.h"

#include <string.h>
#include <time.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define I8042_DATA 0x60
#define I8042_CMD  0x64
#define I8042_RESET 0xfe

void pc_io_init(struct pc_io *io, int vm_fd, int console_fd)
{
	memset(io, 0, sizeof(*io));
	serial_init(&io->uart, vm_fd, console_fd);
}

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t cmos_read(unsigned index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd(tm.tm_year / 100 + 19);   /* century */
	case 0x0a: return 0x26;         /* no update in progress */
	case 0x0b: return 0x02;         /* 24-hour, BCD */
	case 0x0d: return 0x80;         /* battery good */
	default: return 0;
	}
}

enum pc_io_event pc_io(struct pc_io *io, uint16_t port, bool is_write, uint8_t *data,
		       unsigned size)
{
	if (port >= SERIAL_BASE && port < SERIAL_BASE + 8 && size == 1) {
		serial_io(&io->uart, port, is_write, data);
		return PC_IO_DONE;
	}
	switch (port) {
	case CMOS_INDEX:
		if (is_write)
			io->cmos_index = *data & 0x7f;  /* bit 7: NMI mask */
		else
			*data = io->cmos_index;
		return PC_IO_DONE;
	case CMOS_DATA:
		if (!is_write)
			*data = cmos_read(io->cmos_index);
		return PC_IO_DONE;
	case I8042_CMD:
		if (is_write && *data == I8042_RESET)
			return PC_IO_RESET;
		if (!is_write)
			*data = 0;              /* nothing to read, ready for commands */
		return PC_IO_DONE;
	case I8042_DATA:
		if (!is_write)
			*data = 0;
		return PC_IO_DONE;
	default:
		if (!is_write)
			memset(data, 0xff, size);
		return PC_IO_DONE;
	}
}
