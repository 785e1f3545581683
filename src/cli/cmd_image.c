/* labvisor image build: command line over libimage (src/image/initramfs.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "image/initramfs.h"

#define CMD "image build"
#define MAX_PROGRAMS 64

static void usage_image(FILE *out)
{
	fprintf(out,
		"Usage: labvisor image build [--with PROG,PROG...] [--init-script FILE] [-o FILE]\n"
		"\n"
		"Writes a Linux guest's initramfs: an uncompressed newc cpio (it boots fastest:\n"
		"no decompression in the guest) with busybox-static and its applets,\n"
		"/dev/console, Labvisor's /init (mounts, hostname and network from the kernel\n"
		"command line, the agent, the starter script), and the host programs named by\n"
		"--with together with the shared libraries they load.  Boot it with\n"
		"`labvisor vm run --kernel BZIMAGE --initrd FILE` (scripts/build-kernel builds\n"
		"the kernel).\n"
		"\n"
		"Options:\n"
		"  --with LIST        host programs to add, e.g. dropbear,python3\n"
		"  --init-script FILE a starter script run at the end of boot\n"
		"  --agent FILE       the guest agent to install as /sbin/labvisor-agent\n"
		"                     (default: labvisor-agent beside this labvisor; it\n"
		"                     answers `labvisor vm exec` and `vm cp`)\n"
		"  --no-agent         leave the agent out\n"
		"  --applet-links     a link for each of busybox's ~270 applets (/bin/ls ...).\n"
		"                     Without it only /bin/sh and /usr/bin/env are links: the\n"
		"                     shell and `vm exec` find applets by name anyway, and each\n"
		"                     file costs the boot ~20 ms on PVM hosts.  Add it when a\n"
		"                     program execs applets by path or PATH search itself\n"
		"  -o, --output FILE  where to write it (default initramfs.cpio)\n"
		"  -h, --help         show this help\n"
		"\n"
		"Kernel command-line options /init reads: labvisor.hostname=NAME,\n"
		"labvisor.ip=ADDR/PREFIX, labvisor.gw=ADDR, labvisor.run=poweroff|reboot.\n");
}

static int image_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "with", required_argument, NULL, 'w' }, { "init-script", required_argument, NULL, 's' },
		{ "agent", required_argument, NULL, 'a' }, { "output", required_argument, NULL, 'o' },
		{ "no-agent", no_argument, NULL, 'n' },
		{ "applet-links", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *programs[MAX_PROGRAMS];
	struct initramfs_opts o = { .output = "initramfs.cpio", .programs = programs };
	struct lv_err err;
	char agent[4096];
	bool no_agent = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			for (char *p = strtok(optarg, ","); p; p = strtok(NULL, ",")) {
				if (o.nprograms == MAX_PROGRAMS || strchr(p, '/'))
					return cli_error(CMD, "--with takes up to %d program names "
							 "(no paths)", MAX_PROGRAMS), LV_EXIT_USAGE;
				programs[o.nprograms++] = p;
			}
			break;
		case 's': o.init_script = optarg; break;
		case 'a': o.agent = optarg; break;
		case 'n': no_agent = true; break;
		case 'l': o.applet_links = true; break;
		case 'o': o.output = optarg; break;
		case 'h': usage_image(stdout); return 0;
		default: usage_image(stderr); return LV_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_error(CMD, "unexpected argument '%s'", argv[optind]), LV_EXIT_USAGE;
	if (!o.agent && !no_agent) {
		if (!cli_beside_self("labvisor-agent", agent, sizeof(agent)))
			return cli_error(CMD, "no labvisor-agent beside this labvisor (build it, give "
					 "--agent FILE, or --no-agent)"), LV_EXIT_USAGE;
		o.agent = agent;
	}
	if (no_agent)
		o.agent = NULL;
	if (initramfs_build(&o, &err) < 0)
		return cli_error(CMD, "%s", err.msg), LV_EXIT_USAGE;
	printf("%s\n", o.output);
	return 0;
}

int cmd_image(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "build") == 0)
		return image_build(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage_image(stdout);
		return 0;
	}
	cli_error("image", "expected 'build'; try 'labvisor image --help'");
	return LV_EXIT_USAGE;
}
