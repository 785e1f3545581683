/*
 * The guest agent's protocol (docs/agent.md), shared by the agent
 * (src/agent/agent.c) and the host's client (src/cli/agent_client.c).
 *
 * One request per vsock connection to LV_AGENT_PORT.  Both directions are
 * frames: an 8-byte header { u8 type; u8 zero[3]; u32 length (little
 * endian) } and `length` bytes (at most LV_AGENT_MAX_FRAME).
 *
 *   host -> agent                          agent -> host
 *   PING                                   PONG "labvisor-agent <version>"
 *   EXEC cwd\0 arg0\0 ... argN\0 \0 K=V\0...   OUT/ERR bytes ..., then EXIT
 *     then STDIN bytes (empty: end of input),    (u32 wait status, as waitpid)
 *     SIGNAL u32 (to its process group)
 *   PUT u32 mode, path\0; DATA ..., empty DATA     OK u64 bytes written
 *   GET path\0                             FILE u64 size, u32 mode; DATA ...,
 *                                            empty DATA
 *   any failure                            ERROR "text" (the last frame)
 *
 * Closing the connection early kills what the request started.
 */
#ifndef LABVISOR_AGENT_PROTO_H
#define LABVISOR_AGENT_PROTO_H

#include <stdint.h>

#define LV_AGENT_PORT      52
#define LV_AGENT_VERSION   1
#define LV_AGENT_MAX_FRAME (1u << 20)
#define LV_AGENT_HDR       8

enum lv_agent_frame {
	LV_AF_PING = 'p',
	LV_AF_EXEC = 'e',
	LV_AF_STDIN = 'i',
	LV_AF_SIGNAL = 'k',
	LV_AF_PUT = 'w',
	LV_AF_GET = 'g',
	LV_AF_DATA = 'd',
	LV_AF_PONG = 'P',
	LV_AF_OUT = 'o',
	LV_AF_ERR = 'r',
	LV_AF_EXIT = 'x',
	LV_AF_OK = 'K',
	LV_AF_FILE = 'f',
	LV_AF_ERROR = 'E',
};

#endif
