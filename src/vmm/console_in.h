#ifndef LV_VMM_CONSOLE_IN_H
#define LV_VMM_CONSOLE_IN_H

#include <pthread.h>
#include <stdbool.h>
#include <termios.h>

struct vm;

struct console_in {
	struct vm *vm;
	pthread_t thread;
	bool started, raw;
	struct termios saved;
};

/* Starts feeding standard input to the guest's UART (see console_in.c). */
void console_in_start(struct console_in *c, struct vm *vm);
/* After the VM stopped: joins the reader, restores the terminal. */
void console_in_stop(struct console_in *c);

#endif
