#ifndef LV_VMM_CONTROL_H
#define LV_VMM_CONTROL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/un.h>

#include "console_in.h"
#include "util/err.h"

struct vm;

struct control {
	struct vm *vm;
	int fd;                 /* listening, or -1 */
	pthread_t thread;
	bool started;
	char path[108], name[65];
	struct console_in attached;     /* `vm console`: one client at a time */
};

/* <dir>/<name>.sock for a valid name (letters, digits, - _ .). */
int control_socket_path(const char *dir, const char *name, struct sockaddr_un *sun,
			struct lv_err *err);
/* <dir>/<name>.vsock: the VM's agent channel (virtio_vsock.h), beside it. */
int control_vsock_path(const char *dir, const char *name, struct sockaddr_un *sun,
		       struct lv_err *err);
/* A connected socket to a running VM, or -1. */
int control_connect(const struct sockaddr_un *sun);

/* Names of the VMs whose sockets in `dir` answer, sorted (up to `max`); dead
 * VMs' leftover sockets are removed on the way. */
#define CONTROL_NAME_MAX 65
unsigned control_list(const char *dir, char (*names)[CONTROL_NAME_MAX], unsigned max);

/* Binds the socket (see control.c); errors: name in use, bad name, the folder. */
int control_open(struct control *c, struct vm *vm, const char *dir, const char *name,
		 struct lv_err *err);
void control_start(struct control *c);
/* After the VM stopped: joins the thread, removes the socket. */
void control_close(struct control *c);

#endif
