#include "virtio_vsock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define VIRTIO_ID_VSOCK 19
#define Q_RX    0
#define Q_TX    1
#define Q_EVENT 2
#define HDR     44
#define TYPE_STREAM 1
#define SHUT_RCV_F  1u
#define SHUT_SEND_F 2u

enum op { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE,
	  OP_CREDIT_REQUEST };

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == HDR, "virtio_vsock_hdr is 44 bytes");

enum conn_state {
	C_FREE,
	C_HANDSHAKE,    /* reading "CONNECT <port>\n" from the host program */
	C_CONNECTING,   /* REQUEST owed or sent; waiting for the guest's RESPONSE */
	C_OPEN,
	C_DRAIN,        /* the guest is done: deliver what is left, then close */
};

/* Packets owed to the guest for a connection. */
#define OWE_REQUEST  1u
#define OWE_CREDIT   2u
#define OWE_SHUTDOWN 4u

struct vsock_conn {
	enum conn_state state;
	int fd;
	uint32_t host_port, guest_port;
	unsigned owe;
	bool request_sent;
	/* host program -> guest */
	uint8_t stage[VSOCK_STAGE];
	size_t stage_len, stage_off;
	bool client_eof;
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	/* guest -> host program */
	char line[48];
	unsigned line_len, line_off;    /* the handshake line, then "OK <port>\n" */
	uint8_t *out;
	size_t out_len, out_off;
	uint32_t fwd_cnt, fwd_told;
};

static void vsock_config_read(void *dev, unsigned off, void *data, unsigned len)
{
	uint8_t cfg[8] = { VSOCK_GUEST_CID };   /* le64 guest_cid */

	(void)dev;
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = off + i < sizeof(cfg) ? cfg[off + i] : 0;
}

static void vsock_reset(void *dev)
{
	struct virtio_vsock *v = dev;
	uint64_t one = 1;

	v->reset_seen = true;           /* the device thread drops the connections */
	if (write(v->mmio.notify_fd, &one, sizeof(one)) < 0) {
		/* already signalled */
	}
}

static const struct virtio_device_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.features = 0,                  /* VIRTIO_VSOCK_F_STREAM is implied */
	.nqueues = 3,
	/* Linux posts a 4 KiB receive buffer per descriptor at probe: 64 of them
	 * (256 KiB in flight) instead of 256 saves the guest 768 KiB and ~0.5 s
	 * of boot on PVM hosts */
	.queue_max = 64,
	.config_read = vsock_config_read,
	.reset = vsock_reset,
};

/* ---- connections ---- */

static void conn_close(struct virtio_vsock *v, struct vsock_conn *c, bool tell_guest)
{
	if (tell_guest && c->request_sent && v->nrst < 32) {
		struct vsock_hdr h = {
			.src_cid = VSOCK_HOST_CID, .dst_cid = VSOCK_GUEST_CID,
			.src_port = c->host_port, .dst_port = c->guest_port,
			.type = TYPE_STREAM, .op = OP_RST,
		};

		memcpy(v->rst[v->nrst++], &h, HDR);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static struct vsock_conn *conn_find(struct virtio_vsock *v, uint32_t host_port,
				    uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];

		if (c->state >= C_CONNECTING && c->request_sent && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static uint32_t peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* A reset for a packet that belongs to no connection. */
static void owe_rst_reply(struct virtio_vsock *v, const struct vsock_hdr *in)
{
	struct vsock_hdr h = {
		.src_cid = VSOCK_HOST_CID, .dst_cid = in->src_cid,
		.src_port = in->dst_port, .dst_port = in->src_port,
		.type = TYPE_STREAM, .op = OP_RST,
	};

	if (in->op != OP_RST && v->nrst < 32)
		memcpy(v->rst[v->nrst++], &h, HDR);
}

/* ---- the transmit queue: packets from the guest ---- */

static int append_out(struct vsock_conn *c, const struct vq_chain *ch, uint32_t len)
{
	size_t pending = c->out_len - c->out_off;

	if (pending + len > VSOCK_CONN_BUF)
		return -1;                      /* the guest ignored our credit */
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	if (!c->out && !(c->out = malloc(VSOCK_CONN_BUF)))
		return -1;
	vq_chain_read(ch, HDR, c->out + c->out_len, len);
	c->out_len += len;
	return 0;
}

static void guest_packet_for(struct virtio_vsock *v, struct vsock_conn *c,
			     const struct vsock_hdr *h, const struct vq_chain *ch)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case OP_RESPONSE:
		if (c->state != C_CONNECTING) {
			conn_close(v, c, true);
			return;
		}
		c->state = C_OPEN;
		c->line_len = (unsigned)snprintf(c->line, sizeof(c->line), "OK %u\n", c->host_port);
		c->line_off = 0;
		return;
	case OP_RW:
		if (c->state != C_OPEN || append_out(c, ch, h->len) < 0)
			conn_close(v, c, true);
		return;
	case OP_CREDIT_REQUEST:
		c->owe |= OWE_CREDIT;
		return;
	case OP_CREDIT_UPDATE:
		return;
	case OP_SHUTDOWN:
		if (h->flags & SHUT_RCV_F)
			c->client_eof = true;   /* it reads no more: stop sending */
		if ((h->flags & SHUT_SEND_F) || c->state != C_OPEN)
			c->state = C_DRAIN;     /* deliver the rest, then reset */
		return;
	case OP_RST:
		c->request_sent = false;        /* nothing more to tell it */
		if (c->state == C_OPEN)
			c->state = C_DRAIN;
		else
			conn_close(v, c, false);
		return;
	default:
		conn_close(v, c, true);
	}
}

/* One packet; -1 when it breaks the rules of the queue itself. */
static int guest_packet(struct virtio_vsock *v, const struct vq_chain *ch, char *why,
			size_t whylen)
{
	struct vsock_hdr h;
	struct vsock_conn *c;

	if (ch->read_len < HDR || vq_chain_read(ch, 0, &h, HDR) != HDR) {
		snprintf(why, whylen, "a transmitted packet of %llu bytes, shorter than its header",
			 (unsigned long long)ch->read_len);
		return -1;
	}
	if (h.len > ch->read_len - HDR) {
		snprintf(why, whylen, "a packet says it carries %u bytes, its buffers hold %llu",
			 h.len, (unsigned long long)(ch->read_len - HDR));
		return -1;
	}
	if (h.src_cid != VSOCK_GUEST_CID || h.dst_cid != VSOCK_HOST_CID)
		return 0;                       /* not ours to answer: dropped */
	c = h.type == TYPE_STREAM ? conn_find(v, h.dst_port, h.src_port) : NULL;
	if (!c)
		owe_rst_reply(v, &h);           /* incl. the guest connecting to the host */
	else
		guest_packet_for(v, c, &h, ch);
	return 0;
}

static void drain_tx(struct virtio_vsock *v)
{
	struct virtq *q = virtio_mmio_queue(&v->mmio, Q_TX);
	bool used = false;
	char why[200];
	int rc;

	while (q && (rc = vq_pop(q, v->mmio.gm, &v->chain, why, sizeof(why))) != 0) {
		if (rc < 0 || guest_packet(v, &v->chain, why, sizeof(why)) < 0) {
			virtio_mmio_fail(&v->mmio, Q_TX, why);
			break;
		}
		vq_push(q, v->chain.head, 0);
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(&v->mmio);
}

/* ---- the receive queue: packets to the guest ---- */

static struct vsock_hdr conn_hdr(const struct vsock_conn *c, uint16_t op)
{
	return (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = VSOCK_GUEST_CID,
		.src_port = c->host_port, .dst_port = c->guest_port,
		.type = TYPE_STREAM, .op = op,
		.buf_alloc = VSOCK_CONN_BUF, .fwd_cnt = c->fwd_cnt,
	};
}

/* The next packet owed to the guest: its header, and the connection whose
 * staged bytes follow it (NULL: a header alone). false: nothing owed. */
static bool next_packet(struct virtio_vsock *v, struct vsock_hdr *h, struct vsock_conn **data)
{
	*data = NULL;
	if (v->nrst) {
		memcpy(h, v->rst[--v->nrst], HDR);
		return true;
	}
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];

		if (c->state == C_FREE || c->state == C_HANDSHAKE)
			continue;
		if (c->owe & OWE_REQUEST) {
			c->owe &= ~OWE_REQUEST;
			c->request_sent = true;
			*h = conn_hdr(c, OP_REQUEST);
			return true;
		}
		if (c->state == C_OPEN && c->stage_off < c->stage_len && peer_credit(c)) {
			*h = conn_hdr(c, OP_RW);
			*data = c;
			return true;
		}
		if (c->owe & (OWE_CREDIT | OWE_SHUTDOWN)) {
			*h = conn_hdr(c, (c->owe & OWE_SHUTDOWN) ? OP_SHUTDOWN : OP_CREDIT_UPDATE);
			h->flags = (c->owe & OWE_SHUTDOWN) ? SHUT_SEND_F : 0;
			c->owe &= (c->owe & OWE_SHUTDOWN) ? ~OWE_SHUTDOWN : ~OWE_CREDIT;
			return true;
		}
	}
	return false;
}

static void fill_rx(struct virtio_vsock *v)
{
	struct virtq *q = virtio_mmio_queue(&v->mmio, Q_RX);
	bool used = false;
	char why[200];

	while (q && vq_has_avail(q)) {
		struct vsock_conn *c;
		struct vsock_hdr h;
		size_t n = 0;
		int rc;

		if (!next_packet(v, &h, &c))
			break;
		if ((rc = vq_pop(q, v->mmio.gm, &v->chain, why, sizeof(why))) <= 0 ||
		    v->chain.write_len < HDR) {
			if (rc > 0)
				snprintf(why, sizeof(why), "a receive buffer of %llu bytes, smaller "
					 "than a packet header", (unsigned long long)v->chain.write_len);
			virtio_mmio_fail(&v->mmio, Q_RX, why);
			return;
		}
		if (c) {
			n = c->stage_len - c->stage_off;
			if (n > peer_credit(c))
				n = peer_credit(c);
			if (n > v->chain.write_len - HDR)
				n = v->chain.write_len - HDR;
			vq_chain_write(&v->chain, HDR, c->stage + c->stage_off, n);
			c->stage_off += n;
			c->tx_cnt += (uint32_t)n;
			c->fwd_told = c->fwd_cnt;
			h.len = (uint32_t)n;
		}
		vq_chain_write(&v->chain, 0, &h, HDR);
		vq_push(q, v->chain.head, (uint32_t)(HDR + n));
		used = true;
	}
	if (used)
		virtio_mmio_interrupt(&v->mmio);
}

/* ---- the host side ---- */

static void accept_client(struct virtio_vsock *v)
{
	int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conn[i].state == C_FREE) {
			v->conn[i].state = C_HANDSHAKE;
			v->conn[i].fd = fd;
			return;
		}
	close(fd);                              /* too many: the program sees EOF */
}

/* "CONNECT <port>\n" */
static void read_handshake(struct virtio_vsock *v, struct vsock_conn *c)
{
	ssize_t n = read(c->fd, c->line + c->line_len, sizeof(c->line) - 1 - c->line_len);
	char *nl, *end;
	unsigned long port;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(v, c, false);
		return;
	}
	c->line_len += (unsigned)n;
	c->line[c->line_len] = '\0';
	if (!(nl = strchr(c->line, '\n'))) {
		if (c->line_len == sizeof(c->line) - 1)
			conn_close(v, c, false);
		return;
	}
	*nl = '\0';
	errno = 0;
	port = strncmp(c->line, "CONNECT ", 8) == 0 ? strtoul(c->line + 8, &end, 10) : 0;
	if (!port || errno || *end || port > UINT32_MAX) {
		conn_close(v, c, false);
		return;
	}
	/* bytes after the line are the start of the stream */
	c->stage_len = c->line_len - (unsigned)(nl + 1 - c->line);
	memcpy(c->stage, nl + 1, c->stage_len);
	c->line_len = 0;
	c->guest_port = (uint32_t)port;
	c->host_port = v->next_port++;
	c->state = C_CONNECTING;
	c->owe = OWE_REQUEST;
}

static void read_client(struct virtio_vsock *v, struct vsock_conn *c)
{
	ssize_t n = read(c->fd, c->stage, sizeof(c->stage));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(v, c, true);
		return;
	}
	if (n == 0) {
		c->client_eof = true;
		if (c->state == C_OPEN)
			c->owe |= OWE_SHUTDOWN;
		else
			conn_close(v, c, true);
		return;
	}
	c->stage_len = (size_t)n;
	c->stage_off = 0;
}

static void write_client(struct virtio_vsock *v, struct vsock_conn *c)
{
	ssize_t n;

	if (c->line_off < c->line_len) {
		n = send(c->fd, c->line + c->line_off, c->line_len - c->line_off, MSG_NOSIGNAL);
		if (n > 0)
			c->line_off += (unsigned)n;
	} else {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			c->fwd_cnt += (uint32_t)n;
			if (c->fwd_cnt - c->fwd_told >= VSOCK_CONN_BUF / 4)
				c->owe |= OWE_CREDIT;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		conn_close(v, c, true);
}

static bool has_output(const struct vsock_conn *c)
{
	return c->line_off < c->line_len || c->out_off < c->out_len;
}

static short conn_events(const struct vsock_conn *c)
{
	short ev = 0;

	if (c->state == C_HANDSHAKE)
		return POLLIN;
	if (c->state == C_FREE)
		return 0;
	if ((c->state == C_OPEN || c->state == C_CONNECTING) && !c->client_eof &&
	    c->stage_off >= c->stage_len)
		ev |= POLLIN;
	if (has_output(c))
		ev |= POLLOUT;
	return ev;
}

static void serve_conn(struct virtio_vsock *v, struct vsock_conn *c, short revents)
{
	if (c->state == C_HANDSHAKE) {
		if (revents)
			read_handshake(v, c);
		return;
	}
	if (revents & POLLOUT)
		write_client(v, c);
	if ((c->state == C_OPEN || c->state == C_CONNECTING) && (revents & (POLLIN | POLLHUP | POLLERR)) &&
	    !c->client_eof && c->stage_off >= c->stage_len)
		read_client(v, c);
}

static void drop_all(struct virtio_vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conn[i].state != C_FREE)
			conn_close(v, &v->conn[i], false);
	v->nrst = 0;
	v->reset_seen = false;
}

static void *vsock_main(void *arg)
{
	struct virtio_vsock *v = arg;
	struct pollfd p[3 + VSOCK_MAX_CONNS];

	for (;;) {
		unsigned n = 3;

		p[0] = (struct pollfd){ .fd = v->stop_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = v->mmio.notify_fd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = v->listen_fd, .events = POLLIN };
		for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
			p[n++] = (struct pollfd){ .fd = v->conn[i].state ? v->conn[i].fd : -1,
						  .events = conn_events(&v->conn[i]) };
		if (poll(p, n, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		pthread_mutex_lock(&v->mmio.lock);
		if (p[1].revents)
			virtio_mmio_drain_notify(&v->mmio);
		if (v->reset_seen)
			drop_all(v);
		drain_tx(v);
		if (p[2].revents & POLLIN)
			accept_client(v);
		for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
			if (p[3 + i].fd >= 0 && v->conn[i].fd == p[3 + i].fd)
				serve_conn(v, &v->conn[i], p[3 + i].revents);
		for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
			if (v->conn[i].state == C_DRAIN && !has_output(&v->conn[i]))
				conn_close(v, &v->conn[i], true);
		fill_rx(v);
		pthread_mutex_unlock(&v->mmio.lock);
	}
	return NULL;
}

int vsock_listen(struct virtio_vsock *v, const char *path, struct lv_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path))
		return lv_err_set(err, "vsock socket %s: path too long", path);
	strcpy(sun.sun_path, path);
	unlink(path);                   /* the control socket's check made the name ours */
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0600) < 0 || listen(v->listen_fd, 16) < 0)
		return lv_err_sys(err, errno, "vsock socket %s", path);
	snprintf(v->path, sizeof(v->path), "%s", path);
	return 0;
}

int vsock_create(struct virtio_vsock *v, int vm_fd, const struct guest_mem *gm, uint64_t base,
		 unsigned irq, struct lv_err *err)
{
	memset(v, 0, sizeof(*v));
	v->listen_fd = v->stop_fd = -1;
	v->next_port = 1u << 30;        /* host ports, as Firecracker numbers them */
	v->conn = calloc(VSOCK_MAX_CONNS, sizeof(*v->conn));
	if (!v->conn)
		return lv_err_sys(err, ENOMEM, "virtio-vsock connections");
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		v->conn[i].fd = -1;
	if (virtio_mmio_init(&v->mmio, &vsock_ops, v, vm_fd, gm, base, irq, err) < 0)
		return -1;
	v->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (v->stop_fd < 0)
		return lv_err_sys(err, errno, "virtio-vsock: eventfd");
	v->created = true;
	return 0;
}

void vsock_start(struct virtio_vsock *v)
{
	v->started = pthread_create(&v->thread, NULL, vsock_main, v) == 0;
}

void vsock_destroy(struct virtio_vsock *v)
{
	uint64_t one = 1;

	if (!v->created)
		return;
	v->created = false;
	if (v->started && write(v->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(v->thread, NULL);
	v->started = false;
	for (unsigned i = 0; v->conn && i < VSOCK_MAX_CONNS; i++)
		if (v->conn[i].state != C_FREE)
			conn_close(v, &v->conn[i], false);
	free(v->conn);
	v->conn = NULL;
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	if (v->stop_fd >= 0)
		close(v->stop_fd);
	v->listen_fd = v->stop_fd = -1;
	virtio_mmio_destroy(&v->mmio);
}
