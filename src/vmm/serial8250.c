#include "serial8250.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI   0x01
#define IER_THRI  0x02
#define LCR_DLAB  0x80
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define MSR_DCD_DSR_CTS 0xb0

void serial_init(struct serial8250 *s, int vm_fd, int out_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->vm_fd = vm_fd;
	s->out_fd = out_fd;
	s->tap_fd = -1;
}

bool serial_tap(struct serial8250 *s, int fd)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = s->tap_fd < 0;
	if (ok)
		s->tap_fd = fd;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void serial_untap(struct serial8250 *s)
{
	pthread_mutex_lock(&s->lock);
	s->tap_fd = -1;
	pthread_mutex_unlock(&s->lock);
}

/* The line follows the UART's interrupt condition; KVM turns a rise into an edge for the PIC. */
static void set_irq(struct serial8250 *s, bool level)
{
	struct kvm_irq_level l = { .irq = SERIAL_IRQ, .level = level };

	ioctl(s->vm_fd, KVM_IRQ_LINE, &l);
}

static bool irq_wanted(const struct serial8250 *s)
{
	return ((s->ier & IER_RDI) && s->rx_len) || ((s->ier & IER_THRI) && s->thri_pending);
}

static void update_irq(struct serial8250 *s)
{
	bool want = irq_wanted(s);

	if (want != s->irq_level) {
		s->irq_level = want;
		set_irq(s, want);
	}
}

static void watch_panic(struct serial8250 *s, uint8_t c)
{
	if (c == '\n' || s->line_len == sizeof(s->line) - 1) {
		s->line[s->line_len] = '\0';
		if (strstr(s->line, "Kernel panic - not syncing"))
			s->panicked = true;
		s->line_len = 0;
	}
	if (c != '\n')
		s->line[s->line_len++] = (char)c;
}

static void transmit(struct serial8250 *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		if (s->rx_len < SERIAL_FIFO)
			s->rx[(s->rx_head + s->rx_len++) % SERIAL_FIFO] = c;
		return;
	}
	if (write(s->out_fd, &c, 1) < 0) {
		/* nobody reads the console: the guest runs on */
	}
	/* never blocks the guest: a client that does not keep up loses bytes */
	if (s->tap_fd >= 0 && send(s->tap_fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		s->tap_fd = -1;
	watch_panic(s, c);
}

static uint8_t iir(struct serial8250 *s)
{
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_FIFO | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending) {
		s->thri_pending = false;        /* reading IIR acknowledges THRE */
		return IIR_FIFO | IIR_THRI;
	}
	return IIR_FIFO | IIR_NONE;
}

static uint8_t read_reg(struct serial8250 *s, unsigned reg)
{
	uint8_t c;

	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (!s->rx_len)
			return 0;
		c = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
		s->rx_len--;
		return c;
	case IER: return s->lcr & LCR_DLAB ? s->dlm : s->ier;
	case IIR_FCR: return iir(s);
	case LCR: return s->lcr;
	case MCR: return s->mcr;
	case LSR: return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case MSR: return s->mcr & MCR_LOOP ? 0 : MSR_DCD_DSR_CTS;
	default: return s->scr;
	}
}

static void write_reg(struct serial8250 *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return;
		}
		transmit(s, v);
		s->thri_pending = true;         /* done at once: the holding register is empty */
		return;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			return;
		}
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		return;
	case IIR_FCR: return;           /* FIFO control: the FIFO is always on */
	case LCR: s->lcr = v; return;
	case MCR: s->mcr = v; return;
	case SCR: s->scr = v; return;
	default: return;                /* LSR, MSR: read-only */
	}
}

void serial_io(struct serial8250 *s, uint16_t port, bool is_write, uint8_t *data)
{
	pthread_mutex_lock(&s->lock);
	if (is_write)
		write_reg(s, port - SERIAL_BASE, *data);
	else
		*data = read_reg(s, port - SERIAL_BASE);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

unsigned serial_input(struct serial8250 *s, const uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_len < SERIAL_FIFO)
		s->rx[(s->rx_head + s->rx_len++) % SERIAL_FIFO] = buf[n++];
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

bool serial_listening(struct serial8250 *s)
{
	bool on;

	pthread_mutex_lock(&s->lock);
	on = s->ier & IER_RDI;
	pthread_mutex_unlock(&s->lock);
	return on;
}
