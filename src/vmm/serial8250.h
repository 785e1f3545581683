/*
 * A 16550A-compatible UART at 0x3f8 raising IRQ 4, enough for Linux's 8250
 * driver in both directions: transmitted bytes go to the console fd;
 * received bytes (serial_input) wait in a FIFO and raise "data ready".  The
 * transmitter is always empty, so THRE interrupts fire as soon as enabled.
 * It also watches the console for the kernel's panic line.
 */
#ifndef LV_VMM_SERIAL8250_H
#define LV_VMM_SERIAL8250_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SERIAL_BASE 0x3f8
#define SERIAL_IRQ  4
#define SERIAL_FIFO 256

struct serial8250 {
	pthread_mutex_t lock;
	int vm_fd, out_fd;
	int tap_fd;                     /* `vm console`: a copy of the output, or -1 */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool thri_pending;
	bool irq_level;                 /* what IRQ 4's line is set to */
	uint8_t rx[SERIAL_FIFO];
	unsigned rx_head, rx_len;
	char line[96];                  /* the current console line, for the panic check */
	unsigned line_len;
	bool panicked;
};

void serial_init(struct serial8250 *s, int vm_fd, int out_fd);
/* A port access in [SERIAL_BASE, SERIAL_BASE + 8). */
void serial_io(struct serial8250 *s, uint16_t port, bool is_write, uint8_t *data);
/* Whether the guest has the receiver's interrupt on (someone opened the port:
 * bytes sent before that would be thrown away by the driver's FIFO reset). */
bool serial_listening(struct serial8250 *s);
/* Sends a copy of the output to fd too (one at a time; false: taken) / stops. */
bool serial_tap(struct serial8250 *s, int fd);
void serial_untap(struct serial8250 *s);
/* Bytes typed at the console; returns how many fitted. */
unsigned serial_input(struct serial8250 *s, const uint8_t *buf, unsigned len);

#endif
