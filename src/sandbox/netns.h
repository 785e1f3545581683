/*
 * Networking of a sandbox.  Default: a network namespace with only the
 * loopback interface, up.  --net veth: also a veth pair between the host and
 * the sandbox, with addresses that follow from the box id N (a bijection
 * inside 10.199.0.0/16, one /30 per box):
 *     host side    lvh<N>  10.199.0.0 + 4N + 1
 *     sandbox side lvs<N>  10.199.0.0 + 4N + 2   (default route via the host side)
 * The pair disappears with the sandbox's namespace; the keeper also deletes
 * it explicitly, and --cleanup deletes any left behind.
 */
#ifndef LV_SANDBOX_NETNS_H
#define LV_SANDBOX_NETNS_H

#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct veth {
	char host_if[16], box_if[16];
	uint32_t host_addr, box_addr;   /* host byte order */
};

void veth_for_box(int id, struct veth *v);

/* Keeper: creates the pair with its box end in the namespace of pid. */
int veth_create(const struct veth *v, pid_t pid, struct lv_err *err);
/* Keeper: deletes the host end (and so the pair) if it exists. */
void veth_delete(const struct veth *v);
int veth_exists(const struct veth *v);

/* Init, inside the new network namespace: loopback up, and the box end of v if given. */
int net_setup_inside(const struct veth *v, struct lv_err *err);

#endif
