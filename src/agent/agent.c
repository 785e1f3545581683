/*
 * labvisor-agent: the guest side of `labvisor vm exec / cp` (docs/agent.md).
 * A static program started by the image's /init.  It listens on vsock port
 * LV_AGENT_PORT and serves each connection on its own thread: one request,
 * then the connection ends.  Commands are started with posix_spawn (no
 * page-table copy: a fork costs ~0.3 s on PVM hosts) in a new session, so
 * a hang-up or a SIGNAL frame reaches the whole process group.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "labvisor/agent_proto.h"
#include "util/io.h"

#define CHUNK (32u << 10)

extern char **environ;

struct frame {
	uint8_t type;
	uint32_t len;
	char *data;             /* len bytes + a NUL */
};

static bool send_frame(int fd, uint8_t type, const void *data, uint32_t len)
{
	uint8_t hdr[LV_AGENT_HDR] = { type };

	memcpy(hdr + 4, &len, 4);
	return lv_write_full(fd, hdr, sizeof(hdr)) && lv_write_full(fd, data, len);
}

static bool send_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool send_error(int fd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(msg))
		n = (int)strlen(msg);
	return send_frame(fd, LV_AF_ERROR, msg, (uint32_t)n);
}

/* false on a closed connection or a malformed frame */
static bool recv_frame(int fd, struct frame *f)
{
	uint8_t hdr[LV_AGENT_HDR];

	free(f->data);
	f->data = NULL;
	if (!lv_read_full(fd, hdr, sizeof(hdr)))
		return false;
	f->type = hdr[0];
	memcpy(&f->len, hdr + 4, 4);
	if (f->len > LV_AGENT_MAX_FRAME || !(f->data = malloc(f->len + 1)))
		return false;
	f->data[f->len] = '\0';
	return lv_read_full(fd, f->data, f->len);
}

/* ---- exec ---- */

/* "cwd\0arg0\0...\0\0K=V\0...": argv (pointers into the frame), then NULL,
 * then the environment: ours, overridden by the request's.  NULL: malformed. */
static char **parse_exec(const struct frame *f, char **cwd, char ***envp)
{
	char *p = f->data, *end = f->data + f->len;
	size_t n = 0, nenv = 0, k = 0, e0;
	char **v;

	if (f->len == 0 || end[-1] != '\0')
		return NULL;
	for (char *q = p; q < end; q += strlen(q) + 1)
		n++;
	for (char **e = environ; *e; e++)
		nenv++;
	if (!(v = calloc(n + nenv + 2, sizeof(*v))))
		return NULL;
	*cwd = p;
	for (p += strlen(p) + 1; p < end && *p; p += strlen(p) + 1)
		v[k++] = p;
	if (k == 0 || p >= end) {
		free(v);
		return NULL;
	}
	v[k++] = NULL;
	e0 = k;
	for (p++; p < end; p += strlen(p) + 1)
		if (strchr(p, '='))
			v[k++] = p;
	for (char **e = environ; *e; e++) {
		size_t name = strcspn(*e, "=") + 1;
		bool overridden = false;

		for (size_t j = e0; j < k && !overridden; j++)
			overridden = strncmp(v[j], *e, name) == 0;
		if (!overridden)
			v[k++] = *e;
	}
	v[k] = NULL;
	*envp = v + e0;
	return v;
}

struct child {
	pid_t pid;
	int in, out, err;
	uint8_t *pending;       /* stdin bytes not yet taken by the command */
	size_t pending_len, pending_off;
	bool stdin_done;
};

/*
 * Is name one of busybox's applets?  Images leave the applet links out by
 * default (each file costs the guest's boot time) and list the names in
 * APPLETS; busybox picks the applet from argv[0].
 */
#define BUSYBOX "/bin/busybox"
#define APPLETS "/etc/labvisor/applets"

static bool busybox_applet(const char *name)
{
	char line[128];
	bool found = false;
	FILE *f;

	if (strchr(name, '/') || !(f = fopen(APPLETS, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, name) == 0;
	}
	fclose(f);
	return found;
}

static int spawn(const char *cwd, char **argv, char **envp, struct child *ch)
{
	int in[2], out[2], err[2], rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;

	if (pipe2(in, O_CLOEXEC) < 0)
		return errno;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	if (*cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	{
		sigset_t all;

		sigfillset(&all);
		posix_spawnattr_setsigdefault(&attr, &all);
	}
	rc = posix_spawnp(&ch->pid, argv[0], &fa, &attr, argv, envp);
	if (rc == ENOENT && busybox_applet(argv[0]))
		rc = posix_spawn(&ch->pid, BUSYBOX, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	ch->in = in[1];
	ch->out = out[0];
	ch->err = err[0];
	fcntl(ch->in, F_SETFL, O_NONBLOCK);
	if (rc) {
		close(ch->in);
		close(ch->out);
		close(ch->err);
	}
	return rc;
}

static void feed_stdin(struct child *ch)
{
	while (ch->pending_off < ch->pending_len) {
		ssize_t n = write(ch->in, ch->pending + ch->pending_off,
				  ch->pending_len - ch->pending_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {                   /* it closed its input: drop the rest */
			ch->pending_off = ch->pending_len;
			break;
		}
		ch->pending_off += (size_t)n;
	}
	if (ch->stdin_done && ch->in >= 0) {
		close(ch->in);
		ch->in = -1;
	}
}

/* A frame from the host while the command runs; false: the host is gone. */
static bool host_frame(int fd, struct frame *f, struct child *ch)
{
	uint32_t sig;

	if (!recv_frame(fd, f))
		return false;
	if (f->type == LV_AF_STDIN && !ch->stdin_done) {
		free(ch->pending);
		ch->pending = (uint8_t *)f->data;
		ch->pending_len = f->len;
		ch->pending_off = 0;
		f->data = NULL;
		if (f->len == 0)
			ch->stdin_done = true;
		if (ch->in >= 0)
			feed_stdin(ch);
	} else if (f->type == LV_AF_SIGNAL && f->len == 4) {
		memcpy(&sig, f->data, 4);
		if (sig > 0 && sig < 65)
			kill(-ch->pid, (int)sig);
	}
	return true;
}

static bool forward(int from, int fd, uint8_t type, int *slot)
{
	char buf[CHUNK];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) {
		close(from);
		*slot = -1;
		return true;
	}
	return send_frame(fd, type, buf, (uint32_t)n);
}

static void serve_exec(int fd, struct frame *f)
{
	struct child ch = { .in = -1, .out = -1, .err = -1 };
	char *cwd, **argv, **envp;
	bool host = true;
	int status = 0, rc;

	if (!(argv = parse_exec(f, &cwd, &envp))) {
		send_error(fd, "malformed EXEC request");
		return;
	}
	rc = spawn(cwd, argv, envp, &ch);
	if (rc) {
		send_error(fd, "%s: %s", argv[0], strerror(rc));
		free(argv);
		return;
	}
	free(argv);
	while (ch.out >= 0 || ch.err >= 0) {
		struct pollfd p[4] = {
			{ .fd = ch.out, .events = POLLIN }, { .fd = ch.err, .events = POLLIN },
			{ .fd = host && ch.pending_off >= ch.pending_len ? fd : -1, .events = POLLIN },
			{ .fd = ch.pending_off < ch.pending_len ? ch.in : -1, .events = POLLOUT },
		};

		if (poll(p, 4, -1) < 0 && errno != EINTR)
			break;
		if ((p[0].revents && !forward(ch.out, fd, LV_AF_OUT, &ch.out)) ||
		    (p[1].revents && !forward(ch.err, fd, LV_AF_ERR, &ch.err)) ||
		    (p[2].revents && !host_frame(fd, f, &ch))) {
			host = false;
			kill(-ch.pid, SIGKILL);         /* nobody to tell: end it all */
			break;
		}
		if (p[3].revents)
			feed_stdin(&ch);
	}
	while (waitpid(ch.pid, &status, 0) < 0 && errno == EINTR)
		;
	if (host) {
		uint32_t st = (uint32_t)status;

		send_frame(fd, LV_AF_EXIT, &st, 4);
	}
	for (int *c = &ch.in; c <= &ch.err; c++)
		if (*c >= 0)
			close(*c);
	free(ch.pending);
}

/* ---- files ---- */

static void serve_put(int fd, struct frame *f)
{
	uint32_t mode;
	char tmp[PATH_MAX + 32], *path;
	uint64_t total = 0;
	int out;

	if (f->len < 6 || f->data[f->len - 1] != '\0') {
		send_error(fd, "malformed PUT request");
		return;
	}
	memcpy(&mode, f->data, 4);
	path = f->data + 4;
	if (snprintf(tmp, sizeof(tmp), "%s.lv-put-XXXXXX", path) >= (int)sizeof(tmp)) {
		send_error(fd, "%s: path too long", path);
		return;
	}
	path = strdup(path);
	out = mkostemp(tmp, O_CLOEXEC);        /* 0600, a name no one else has */
	if (out < 0) {
		send_error(fd, "%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	while (recv_frame(fd, f) && f->type == LV_AF_DATA && f->len > 0) {
		if (!lv_write_full(out, f->data, f->len)) {
			send_error(fd, "%s: %s", path, strerror(errno));
			goto fail;
		}
		total += f->len;
	}
	if (f->type != LV_AF_DATA || f->len != 0 || !f->data)
		goto fail;                      /* the host went away mid-file */
	if (fchmod(out, mode & 07777) < 0 || fsync(out) < 0 || close(out) < 0 ||
	    rename(tmp, path) < 0) {
		send_error(fd, "%s: %s", path, strerror(errno));
		out = -1;
		goto fail;
	}
	send_frame(fd, LV_AF_OK, &total, 8);
	free(path);
	return;
fail:
	if (out >= 0)
		close(out);
	unlink(tmp);
	free(path);
}

static void serve_get(int fd, struct frame *f)
{
	char buf[CHUNK];
	uint8_t info[12];
	struct stat st;
	uint64_t size;
	uint32_t mode;
	ssize_t n;
	int in = open(f->data, O_RDONLY | O_CLOEXEC);

	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		send_error(fd, "%s: %s", f->data, in < 0 ? strerror(errno) : "not a regular file");
		if (in >= 0)
			close(in);
		return;
	}
	size = (uint64_t)st.st_size;
	mode = st.st_mode & 07777;
	memcpy(info, &size, 8);
	memcpy(info + 8, &mode, 4);
	if (send_frame(fd, LV_AF_FILE, info, sizeof(info)))
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (!send_frame(fd, LV_AF_DATA, buf, (uint32_t)n))
				break;
	send_frame(fd, LV_AF_DATA, "", 0);
	close(in);
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct frame f = { 0 };
	char pong[40];

	if (recv_frame(fd, &f)) {
		switch (f.type) {
		case LV_AF_PING:
			snprintf(pong, sizeof(pong), "labvisor-agent %d", LV_AGENT_VERSION);
			send_frame(fd, LV_AF_PONG, pong, (uint32_t)strlen(pong));
			break;
		case LV_AF_EXEC: serve_exec(fd, &f); break;
		case LV_AF_PUT:  serve_put(fd, &f); break;
		case LV_AF_GET:  serve_get(fd, &f); break;
		default:         send_error(fd, "unknown request type %#x", f.type);
		}
	}
	free(f.data);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = LV_AGENT_PORT,
	};
	pthread_attr_t attr;
	int lfd;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	setenv("HOME", "/root", 0);     /* /init exports only PATH */
	setenv("PATH", "/sbin:/bin:/usr/sbin:/usr/bin", 0);
	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 16) < 0) {
		fprintf(stderr, "labvisor-agent: vsock port %d: %s (is the guest's kernel built "
			"with CONFIG_VIRTIO_VSOCKETS, and does the VM have the device?)\n",
			LV_AGENT_PORT, strerror(errno));
		return 1;
	}
	fprintf(stderr, "labvisor-agent: listening on vsock port %d\n", LV_AGENT_PORT);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256u << 10);
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(100000);
			continue;
		}
		if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0)
			close(fd);
	}
}
