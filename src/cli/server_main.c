/*
 * labvisor-server: the platform's commands (serve, worker).  A separate
 * binary because they link libraries Debian ships only as shared objects
 * (libmicrohttpd, libpq, libsodium), while `labvisor` itself is static;
 * `labvisor serve` and `labvisor worker` run this program (see main.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "worker") == 0)
		return cmd_worker(argc - 1, argv + 1);
	fprintf(stderr, "Usage: labvisor serve|worker [OPTIONS]  (run through `labvisor`)\n");
	return LV_EXIT_USAGE;
}
