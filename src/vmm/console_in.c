/*
 * A Linux guest's console input: standard input feeds the UART's receiver.
 * On a terminal it is switched to raw mode (restored at the end) and Ctrl-]
 * leaves the VM, as in telnet; from a pipe or a file the bytes are typed in
 * as they come, up to end of file.  `labvisor vm console` attaches the same
 * way through the control socket: the client's bytes are typed in and it
 * gets a copy of the output until it hangs up.
 */
#include "console_in.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vm.h"

#define ESCAPE 0x1d     /* Ctrl-] */

/* Types n bytes into the UART as its FIFO drains; false when the VM stopped. */
static bool type_in(struct console_in *c, const uint8_t *buf, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		if (atomic_load(&c->vm->stopping))
			return false;
		done += serial_input(&c->vm->io.uart, buf + done, n - done);
		if (done < n)
			usleep(1000);
	}
	return true;
}

static void *reader(void *arg)
{
	struct console_in *c = arg;
	uint8_t buf[256];

	while (!atomic_load(&c->vm->stopping)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		/* nothing is read before the guest listens: a pipe's bytes would be lost */
		if (!serial_listening(&c->vm->io.uart)) {
			usleep(50000);
			continue;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;                  /* end of input: the guest runs on */
		if (c->raw && memchr(buf, ESCAPE, (size_t)n)) {
			vm_stop(c->vm, VMM_END_POWEROFF, "left the console (Ctrl-])");
			break;
		}
		if (!type_in(c, buf, (unsigned)n))
			break;
	}
	if (c->attached) {
		serial_untap(&c->vm->io.uart);
		close(c->fd);
	}
	atomic_store(&c->done, true);
	return NULL;
}

bool console_in_attach(struct console_in *c, struct vm *vm, int fd)
{
	if (!serial_tap(&vm->io.uart, fd))
		return false;
	c->vm = vm;
	c->fd = fd;
	c->attached = true;
	c->raw = false;
	atomic_store(&c->done, false);
	c->started = pthread_create(&c->thread, NULL, reader, c) == 0;
	if (!c->started)
		serial_untap(&vm->io.uart);
	return c->started;
}

bool console_in_done(struct console_in *c)
{
	return !c->started || atomic_load(&c->done);
}

void console_in_start(struct console_in *c, struct vm *vm)
{
	struct termios raw;

	c->vm = vm;
	c->fd = STDIN_FILENO;
	c->raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0;
	if (c->raw) {
		raw = c->saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST;   /* our own messages still start at column 0 */
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fprintf(stderr, "labvisor: console attached; Ctrl-] leaves\r\n");
	}
	c->started = pthread_create(&c->thread, NULL, reader, c) == 0;
}

void console_in_stop(struct console_in *c)
{
	if (c->started)
		pthread_join(c->thread, NULL);
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	c->started = c->raw = false;
}
