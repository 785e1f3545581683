/*
 * A running VM's control socket: <runtime dir>/<name>.sock (a SOCK_STREAM
 * unix socket, mode 0600 in a 0700 folder), one JSON request per line, one
 * JSON answer per line:
 *   {"cmd":"info"}  -> {"name", "pid", "kind": "linux"|"bare", "mem", "cpus", "uptime"}
 *   {"cmd":"stats"} -> {"exits": {reason: count}, "cycles": {reason: cycles}, "tsc_khz"}
 *   {"cmd":"stop"}  -> {"ok": true}, and the VM ends ("stopped")
 *   {"cmd":"console"} -> {"ok": true}, then the connection is the serial
 *                      console both ways (Linux guests; one client at a time)
 * A name whose socket answers is in use; one that does not is a dead VM's
 * leftover and is replaced.  The socket is removed when the VM ends.
 */
#include "control.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/fs.h"
#include "vm.h"

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > 64 || n[0] == '.')
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '_' || *n == '.'))
			return false;
	return true;
}

int control_socket_path(const char *dir, const char *name, struct sockaddr_un *sun,
			struct lv_err *err)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (!name_ok(name))
		return lv_err_set(err, "VM name '%s': use up to 64 letters, digits, '-', '_' or '.'",
				  name);
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s.sock", dir, name) >=
	    sizeof(sun->sun_path))
		return lv_err_set(err, "runtime folder %s: path too long for a socket", dir);
	return 0;
}

int control_vsock_path(const char *dir, const char *name, struct sockaddr_un *sun,
		       struct lv_err *err)
{
	if (control_socket_path(dir, name, sun, err) < 0)
		return -1;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s.vsock", dir, name) >=
	    sizeof(sun->sun_path))
		return lv_err_set(err, "runtime folder %s: path too long for a socket", dir);
	return 0;
}

int control_connect(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		int saved = errno;      /* callers tell "nobody listens" from other failures */

		close(fd);
		errno = saved;
		fd = -1;
	}
	return fd;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

unsigned control_list(const char *dir, char (*names)[CONTROL_NAME_MAX], unsigned max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	while (d && n < max && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct sockaddr_un sun;
		struct lv_err err;
		int fd;

		if (len < 6 || len - 5 >= CONTROL_NAME_MAX || strcmp(e->d_name + len - 5, ".sock"))
			continue;
		snprintf(names[n], CONTROL_NAME_MAX, "%.*s", (int)(len - 5), e->d_name);
		if (control_socket_path(dir, names[n], &sun, &err) < 0)
			continue;
		if ((fd = control_connect(&sun)) < 0) {
			if (errno == ECONNREFUSED) {    /* nobody listens: a dead VM's socket */
				unlink(sun.sun_path);
				if (control_vsock_path(dir, names[n], &sun, &err) == 0)
					unlink(sun.sun_path);
			}
			continue;
		}
		close(fd);
		n++;
	}
	if (d)
		closedir(d);
	qsort(names, n, CONTROL_NAME_MAX, by_name);
	return n;
}

int control_open(struct control *c, struct vm *vm, const char *dir, const char *name,
		 struct lv_err *err)
{
	struct sockaddr_un sun;
	int other;

	c->fd = -1;
	c->vm = vm;
	if (control_socket_path(dir, name, &sun, err) < 0)
		return -1;
	if (lv_mkdirs(dir, 0700, err) < 0)
		return -1;
	if ((other = control_connect(&sun)) >= 0 || (errno != ECONNREFUSED && errno != ENOENT)) {
		if (other >= 0)
			close(other);
		return lv_err_set(err, "a VM named '%s' is already running (%s)", name, sun.sun_path);
	}
	unlink(sun.sun_path);           /* a dead VM's leftover, if any */
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(sun.sun_path, 0600) < 0 || listen(c->fd, 8) < 0) {
		lv_err_sys(err, errno, "control socket %s", sun.sun_path);
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", sun.sun_path);
	snprintf(c->name, sizeof(c->name), "%s", name);
	return 0;
}

static json_t *stats_json(struct vm *vm)
{
	struct vmm_stats s;
	json_t *exits = json_object(), *cycles = json_object();

	vm_collect_stats(vm, &s);
	for (unsigned r = 0; r < LV_EXIT_REASON_COUNT; r++) {
		json_object_set_new(exits, vmm_exit_reason_name(r), json_integer((json_int_t)s.count[r]));
		json_object_set_new(cycles, vmm_exit_reason_name(r),
				    json_integer((json_int_t)s.cycles[r]));
	}
	return json_pack("{s:o, s:o, s:I}", "exits", exits, "cycles", cycles, "tsc_khz",
			 (json_int_t)s.tsc_khz);
}

static bool send_line(int fd, json_t *res)
{
	char *out = json_dumps(res, JSON_COMPACT), *line;
	ssize_t n = -1;

	json_decref(res);
	/* one send, and no SIGPIPE: a client that hung up must not end the VM */
	if (out && asprintf(&line, "%s\n", out) >= 0) {
		n = send(fd, line, strlen(line), MSG_NOSIGNAL);
		free(line);
	}
	free(out);
	return n > 0;
}

/* The connection becomes the console; NULL when it was handed over. */
static json_t *attach_console(struct control *c, int fd)
{
	struct timeval none = { 0 };

	if (!c->vm->is_linux)
		return json_pack("{s:s}", "error", "a bare guest's console is the standard output "
				 "of its vm run");
	if (!console_in_done(&c->attached))
		return json_pack("{s:s}", "error", "another client is attached to the console");
	console_in_stop(&c->attached);
	if (!send_line(fd, json_pack("{s:b}", "ok", 1))) {
		close(fd);
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	if (!console_in_attach(&c->attached, c->vm, fd))
		close(fd);
	return NULL;
}

static json_t *answer(struct control *c, const char *line, int fd, bool *handed_over)
{
	json_t *req = json_loads(line, 0, NULL);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	struct vm *vm = c->vm;
	json_t *res;

	if (!cmd)
		res = json_pack("{s:s}", "error", "send {\"cmd\": \"info\"|\"stats\"|\"stop\"}");
	else if (strcmp(cmd, "info") == 0)
		res = json_pack("{s:s, s:i, s:s, s:I, s:i, s:f}", "name", c->name, "pid", (int)getpid(),
				"kind", vm->is_linux ? "linux" : "bare", "mem",
				(json_int_t)vm->mem.size, "cpus", (int)vm->ncpus, "uptime",
				(double)(vm_now_ns() - vm->start_ns) / 1e9);
	else if (strcmp(cmd, "stats") == 0)
		res = stats_json(vm);
	else if (strcmp(cmd, "stop") == 0) {
		vm_stop(vm, VMM_END_STOPPED, "stopped through its control socket");
		res = json_pack("{s:b}", "ok", 1);
	} else if (strcmp(cmd, "console") == 0) {
		res = attach_console(c, fd);
		*handed_over = !res;
	} else
		res = json_pack("{s:s}", "error", "unknown command");
	json_decref(req);
	return res;
}

/* One client: requests until it hangs up (small requests; one read each).
 * False when the connection was handed over (the console). */
static bool serve_client(struct control *c, int fd)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		bool handed_over = false;
		json_t *res;

		buf[n] = '\0';
		res = answer(c, buf, fd, &handed_over);
		if (handed_over)
			return false;
		if (!send_line(fd, res))
			break;
	}
	return true;
}

static void *control_main(void *arg)
{
	struct control *c = arg;

	while (!atomic_load(&c->vm->stopping)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			struct timeval tv = { .tv_sec = 2 };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (serve_client(c, fd))
				close(fd);
		}
	}
	return NULL;
}

void control_start(struct control *c)
{
	c->started = c->fd >= 0 && pthread_create(&c->thread, NULL, control_main, c) == 0;
}

void control_close(struct control *c)
{
	if (c->started)
		pthread_join(c->thread, NULL);
	console_in_stop(&c->attached);
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	c->fd = -1;
	c->started = false;
}
