/*
 * labvisor vm list | stats NAME | stop NAME | console NAME: talk to running
 * VMs through their control sockets (src/vmm/control.c) in the runtime folder.
 */
#include <errno.h>
#include <poll.h>
#include <termios.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "vmm/control.h"
#include "vmm/vmm.h"

/* One request to a named VM; NULL (said why) when it is not running. */
static json_t *ask(const char *cmd, const char *name, const char *request)
{
	struct sockaddr_un sun;
	struct lv_err err;
	char buf[8192];
	ssize_t n;
	int fd;

	if (control_socket_path(vmm_runtime_dir(), name, &sun, &err) < 0) {
		cli_error(cmd, "%s", err.msg);
		return NULL;
	}
	if ((fd = control_connect(&sun)) < 0) {
		cli_error(cmd, "no VM named '%s' is running", name);
		return NULL;
	}
	/* the answer is one line: read up to its newline */
	n = 0;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) > 0)
		while ((size_t)n < sizeof(buf) - 1 && !memchr(buf, '\n', (size_t)n)) {
			ssize_t got = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n);

			if (got <= 0)
				break;
			n += got;
		}
	close(fd);
	if (n <= 0 || !memchr(buf, '\n', (size_t)n)) {
		cli_error(cmd, "VM '%s' did not answer", name);
		return NULL;
	}
	buf[n] = '\0';
	return json_loads(buf, 0, NULL);
}

static int vm_list(void)
{
	static char names[256][CONTROL_NAME_MAX];
	unsigned n = control_list(vmm_runtime_dir(), names, 256), shown = 0;

	printf("%-20s %8s %-6s %8s %5s %10s\n", "NAME", "PID", "KIND", "MEM", "CPUS", "UPTIME");
	for (unsigned i = 0; i < n; i++) {
		json_t *info = ask("vm list", names[i], "{\"cmd\":\"info\"}\n");

		if (!info)
			continue;
		printf("%-20s %8lld %-6s %7lldM %5lld %9.1fs\n", names[i],
		       (long long)json_integer_value(json_object_get(info, "pid")),
		       json_string_value(json_object_get(info, "kind")),
		       (long long)json_integer_value(json_object_get(info, "mem")) >> 20,
		       (long long)json_integer_value(json_object_get(info, "cpus")),
		       json_number_value(json_object_get(info, "uptime")));
		json_decref(info);
		shown++;
	}
	if (!shown)
		fprintf(stderr, "(no VM with a --name is running)\n");
	return 0;
}

#define ESCAPE 0x1d     /* Ctrl-] */

/* Bytes both ways until the VM ends (EOF) or the user leaves (Ctrl-] / EOF). */
static void relay(int fd, bool tty)
{
	char buf[4096];

	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = STDIN_FILENO, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[0].revents) {
			if ((n = read(fd, buf, sizeof(buf))) <= 0) {
				fprintf(stderr, "%slabvisor: the VM's console closed (the VM ended)\n",
					tty ? "\r\n" : "");
				return;
			}
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				return;
		}
		if (p[1].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			esc = n > 0 && tty ? memchr(buf, ESCAPE, (size_t)n) : NULL;
			if (esc)
				n = esc - buf;
			if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
				return;
			if (esc || n <= 0)
				return;
		}
	}
}

static int vm_console(const char *name)
{
	struct sockaddr_un sun;
	struct termios saved, raw;
	struct lv_err err;
	char line[256];
	size_t n = 0;
	bool tty;
	int fd;

	if (control_socket_path(vmm_runtime_dir(), name, &sun, &err) < 0)
		return cli_error("vm console", "%s", err.msg), LV_EXIT_USAGE;
	if ((fd = control_connect(&sun)) < 0)
		return cli_error("vm console", "no VM named '%s' is running", name), 1;
	send(fd, "{\"cmd\":\"console\"}\n", 18, MSG_NOSIGNAL);
	/* the answer line, a byte at a time: the console's bytes follow it */
	while (n < sizeof(line) - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (!strstr(line, "\"ok\"")) {
		json_t *res = json_loads(line, 0, NULL);
		const char *why = json_string_value(json_object_get(res, "error"));

		cli_error("vm console", "VM '%s': %s", name, why ? why : "no answer");
		json_decref(res);
		close(fd);
		return 1;
	}
	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fprintf(stderr, "labvisor: attached to %s's console; Ctrl-] detaches (the VM runs on)\r\n",
			name);
	}
	relay(fd, tty);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(fd);
	return 0;
}

int cmd_vm_ctl(int argc, char **argv)
{
	json_t *res;
	const char *what = argv[0];

	if (strcmp(what, "list") == 0)
		return argc == 1 ? vm_list() : (cli_error("vm list", "takes no arguments"), LV_EXIT_USAGE);
	if (argc != 2)
		return cli_error("vm", "'vm %s' takes one VM name", what), LV_EXIT_USAGE;
	if (strcmp(what, "console") == 0)
		return vm_console(argv[1]);
	res = ask(strcmp(what, "stats") == 0 ? "vm stats" : "vm stop", argv[1],
		  strcmp(what, "stats") == 0 ? "{\"cmd\":\"stats\"}\n" : "{\"cmd\":\"stop\"}\n");
	if (!res)
		return 1;
	json_dumpf(res, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(res);
	return 0;
}
