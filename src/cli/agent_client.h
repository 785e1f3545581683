/*
 * The host's side of the guest agent's protocol (labvisor/agent_proto.h):
 * reaching a named VM's agent through its <name>.vsock socket, and frames.
 */
#ifndef LV_CLI_AGENT_CLIENT_H
#define LV_CLI_AGENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/*
 * A connected stream to VM `name`'s agent, or -1 with err.  Retries while
 * the guest refuses (still booting, agent not started yet) for up to
 * `wait_sec` seconds.
 */
int agent_connect(const char *name, double wait_sec, struct lv_err *err);

bool agent_send(int fd, uint8_t type, const void *data, uint32_t len);

/* Frames arriving on a non-blocking read loop. */
struct agent_reader {
	uint8_t *buf;
	size_t off, len, cap;   /* frames start at buf + off */
};

/* Reads what is there; 1: more bytes, 0: end of stream, -1: error. */
int agent_reader_fill(struct agent_reader *r, int fd);
/* The next whole frame (payload valid until the next call); false: none yet.
 * A frame longer than LV_AGENT_MAX_FRAME sets *bad. */
bool agent_reader_next(struct agent_reader *r, uint8_t *type, uint8_t **data, uint32_t *len,
		       bool *bad);
void agent_reader_free(struct agent_reader *r);

/* Blocking: the next frame (as agent_reader_next); false at the end or on error. */
bool agent_recv(int fd, struct agent_reader *r, uint8_t *type, uint8_t **data, uint32_t *len);

#endif
