#include "agent_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "labvisor/agent_proto.h"
#include "vmm/control.h"
#include "vmm/vmm.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One attempt: 1 connected, 0 refused (no such VM yet, or the guest said
 * no: try again), -1 error. */
static int try_connect(const struct sockaddr_un *sun, double deadline, int *out, bool *vm_seen)
{
	static const char req[] = "CONNECT 52\n";
	char line[64];
	size_t n = 0;
	int fd = control_connect(sun);

	_Static_assert(LV_AGENT_PORT == 52, "the CONNECT line names the agent's port");
	if (fd < 0)
		return 0;
	*vm_seen = true;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		goto refused;
	/* "OK <port>\n" once the guest accepted; EOF when it refused */
	while (n < sizeof(line) - 1 && !memchr(line, '\n', n)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - now()) * 1000);
		ssize_t got;

		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			break;
		if ((got = read(fd, line + n, 1)) <= 0)         /* a byte at a time: the
								   stream starts after it */
			break;
		n += (size_t)got;
	}
	if (n >= 3 && memcmp(line, "OK ", 3) == 0 && line[n - 1] == '\n') {
		*out = fd;
		return 1;
	}
refused:
	close(fd);
	return 0;
}

int agent_connect(const char *name, double wait_sec, struct lv_err *err)
{
	double deadline = now() + wait_sec;
	struct sockaddr_un sun;
	bool vm_seen = false;
	int fd = -1;

	if (control_vsock_path(vmm_runtime_dir(), name, &sun, err) < 0)
		return -1;
	for (;;) {
		if (try_connect(&sun, deadline > now() + 1 ? deadline : now() + 1, &fd, &vm_seen))
			return fd;
		if (now() >= deadline)
			break;
		usleep(200000);
	}
	if (!vm_seen)
		return lv_err_set(err, "no VM named '%s' with an agent channel is running", name);
	lv_err_set(err, "VM '%s': its agent did not answer%s (is the guest still booting, and "
		   "is labvisor-agent in its image?)", name, wait_sec > 0 ? " in time" : "");
	return -1;
}

bool agent_send(int fd, uint8_t type, const void *data, uint32_t len)
{
	uint8_t hdr[LV_AGENT_HDR] = { type };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)data, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t left = sizeof(hdr) + len;

	memcpy(hdr + 4, &len, 4);
	while (left) {
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		left -= (size_t)n;
		while (m.msg_iovlen && (size_t)n >= m.msg_iov->iov_len) {
			n -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov->iov_base = (uint8_t *)m.msg_iov->iov_base + n;
			m.msg_iov->iov_len -= (size_t)n;
		}
	}
	return true;
}

int agent_reader_fill(struct agent_reader *r, int fd)
{
	ssize_t n;

	if (r->off) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->cap - r->len < 65536) {
		size_t cap = r->cap ? r->cap * 2 : 131072;
		uint8_t *b = realloc(r->buf, cap);

		if (!b)
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	n = read(fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -1;
	r->len += (size_t)n;
	return n > 0;
}

bool agent_reader_next(struct agent_reader *r, uint8_t *type, uint8_t **data, uint32_t *len,
		       bool *bad)
{
	size_t have = r->len - r->off;
	uint32_t n;

	*bad = false;
	if (have < LV_AGENT_HDR)
		return false;
	memcpy(&n, r->buf + r->off + 4, 4);
	if (n > LV_AGENT_MAX_FRAME) {
		*bad = true;
		return false;
	}
	if (have < LV_AGENT_HDR + (size_t)n)
		return false;
	*type = r->buf[r->off];
	*data = r->buf + r->off + LV_AGENT_HDR;
	*len = n;
	r->off += LV_AGENT_HDR + n;
	return true;
}

bool agent_recv(int fd, struct agent_reader *r, uint8_t *type, uint8_t **data, uint32_t *len)
{
	bool bad;

	while (!agent_reader_next(r, type, data, len, &bad))
		if (bad || agent_reader_fill(r, fd) <= 0)
			return false;
	return true;
}

void agent_reader_free(struct agent_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
