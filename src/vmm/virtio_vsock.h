/*
 * virtio-vsock (virtio 1.x, 5.10) with Firecracker's host side: a unix
 * socket <runtime dir>/<name>.vsock.  A host program connects, writes
 * "CONNECT <port>\n", gets "OK <host port>\n" once the guest accepted the
 * connection on that vsock port, and from then on the unix stream is the
 * vsock stream.  The guest is CID 3; connections the guest opens towards
 * the host are refused (reset).  The agent (docs/agent.md) listens on
 * LV_AGENT_PORT.
 *
 * One thread per device does all of its work: the queues (woken by the
 * transport's notify_fd), the listening socket and every connection.
 * Credit-based flow control both ways: the guest never has more than
 * VSOCK_CONN_BUF bytes of a connection waiting in the VMM, and we never send
 * it more than its advertised buffer.
 */
#ifndef LV_VMM_VIRTIO_VSOCK_H
#define LV_VMM_VIRTIO_VSOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio_mmio.h"

#define VSOCK_GUEST_CID 3
#define VSOCK_HOST_CID  2
#define VSOCK_MAX_CONNS 64
#define VSOCK_CONN_BUF  (256u << 10)
#define VSOCK_STAGE     (64u << 10)

struct vsock_conn;

struct virtio_vsock {
	struct virtio_mmio mmio;
	int listen_fd;                  /* the host's unix socket, or -1 */
	int stop_fd;                    /* eventfd: the VM is ending */
	char path[108];
	pthread_t thread;
	bool created, started;
	bool reset_seen;                /* the driver reset the device: drop connections */
	uint32_t next_port;
	struct vsock_conn *conn;        /* VSOCK_MAX_CONNS of them */
	uint8_t rst[32][44];            /* resets owed to the guest for unknown packets */
	unsigned nrst;
	struct vq_chain chain;          /* scratch for the device thread */
};

int vsock_create(struct virtio_vsock *v, int vm_fd, const struct guest_mem *gm, uint64_t base,
		 unsigned irq, struct lv_err *err);
/* The host's socket (a VM with --name); without it the device has no host side. */
int vsock_listen(struct virtio_vsock *v, const char *path, struct lv_err *err);
void vsock_start(struct virtio_vsock *v);
/* Ends the thread, closes every connection, removes the socket (idempotent). */
void vsock_destroy(struct virtio_vsock *v);

#endif
