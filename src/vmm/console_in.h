#ifndef LV_VMM_CONSOLE_IN_H
#define LV_VMM_CONSOLE_IN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <termios.h>

struct vm;

struct console_in {
	struct vm *vm;
	int fd;                 /* standard input, or an attached client's socket */
	bool attached;          /* a client: it also gets the output, until it leaves */
	pthread_t thread;
	bool started, raw;
	atomic_bool done;
	struct termios saved;
};

/* Starts feeding standard input to the guest's UART (see console_in.c). */
void console_in_start(struct console_in *c, struct vm *vm);
/* `vm console`: a client socket gets the output and types in (closed at its
 * end); false when another client is attached. */
bool console_in_attach(struct console_in *c, struct vm *vm, int fd);
/* Whether an attached client has left (the slot can be reused after stop). */
bool console_in_done(struct console_in *c);
/* After the VM stopped (or the client left): joins the reader, restores the terminal. */
void console_in_stop(struct console_in *c);

#endif
