/* labvisor: dispatch to the subcommand named by argv[1]. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef LV_VERSION
#define LV_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "vm", cmd_vm, "run guests under Labvisor's own KVM monitor" },
	{ "isolate", cmd_isolate, "run a program in a namespaces + cgroups + seccomp sandbox" },
	{ "grade", cmd_grade, "build and test a submission against an assignment" },
	{ "image", cmd_image, "build a Linux guest's initramfs" },
	{ "serve", cmd_platform, "the web UI and API, with grading workers (--demo to try it)" },
	{ "worker", cmd_platform, "a grading worker for a platform's database" },
};

bool cli_beside_self(const char *name, char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (!(slash = strrchr(buf, '/')) || (size_t)(slash + 1 - buf) + strlen(name) >= size)
		return false;
	strcpy(slash + 1, name);
	return access(buf, X_OK) == 0;
}

int cmd_platform(int argc, char **argv)
{
	char path[PATH_MAX];
	char *args[argc + 2];

	cli_beside_self("labvisor-server", path, sizeof(path));
	args[0] = path;
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	args[argc + 1] = NULL;
	execv(path, args);
	fprintf(stderr, "labvisor %s: cannot run %s: %s\n", argv[0], path, strerror(errno));
	return 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: labvisor COMMAND [ARGS...]\n"
		"\n"
		"A teaching and evaluation platform for systems courses, on its own\n"
		"KVM hypervisor.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  --version      show the version\n"
		"\n"
		"Run 'labvisor COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return LV_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("labvisor %s\n", LV_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "labvisor: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return LV_EXIT_USAGE;
}
