/* labvisor vm run: command line over libvmm (src/vmm/vmm.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "image/initramfs.h"
#include "util/parse.h"
#include "vmm/vmm.h"

enum stats_mode { STATS_NONE, STATS_TABLE, STATS_JSON };

static void usage_vm(FILE *out)
{
	fprintf(out,
		"Usage: labvisor vm run [OPTIONS] GUEST\n"
		"       labvisor vm run [OPTIONS] --kernel FILE [--initrd FILE] [--append ARGS]\n"
		"       labvisor vm list | stats NAME | stop NAME | console NAME\n"
		"                                     (VMs started with --name)\n"
		"       labvisor vm exec NAME -- CMD... | exec --all -- CMD... | cp SRC DST\n"
		"                                     (Linux guests with the agent: vm exec --help)\n"
		"\n"
		"Runs a guest under Labvisor's KVM monitor.\n"
		"\n"
		"A Linux guest (--kernel: a bzImage or a vmlinux, 64-bit boot protocol) gets\n"
		"an in-kernel interrupt controller and PIT, an 8250 UART at 0x3f8 (IRQ 4) as\n"
		"its console, a CMOS clock, and the command line \"console=ttyS0 reboot=t\n"
		"panic=-1\" plus --append.  scripts/build-kernel builds a kernel for it.  On\n"
		"PVM hosts (KVM without VT-x) a compatibility layer is on by default (--pvm).\n"
		"\n"
		"A bare guest is an ELF64 x86-64 executable\n"
		"(segments at their physical addresses) or, with --format flat, a raw binary\n"
		"loaded at guest-physical 0.  Guests start in 64-bit long mode with guest RAM\n"
		"identity-mapped; vCPU i starts at the entry point with RDI=i, RSI=vCPU count\n"
		"and RSP = top of RAM - i * 64 KiB.  Bytes written to port 0xE9 and the\n"
		"console hypercall go to standard output; the VMM's own messages go to\n"
		"standard error.  The hypercall ABI is in docs/hypercalls.md.\n"
		"\n"
		"Options:\n"
		"  --format elf|flat  guest file format (default: ELF, detected by magic)\n"
		"  --mem SIZE         guest RAM, e.g. 512K, 16M, 1G (default 16M)\n"
		"  --cpus N           vCPUs, one host thread each, 1..%d (default 1); a Linux\n"
		"                     guest's are in its MP table (on PVM hosts: 1 only)\n"
		"  --share DIR        host folder the guest may use through the file\n"
		"                     hypercalls; paths cannot leave it\n"
		"  --stats[=table|json]  print exit statistics to standard error at the end\n"
		"  --timeout SEC      stop the guest after SEC seconds (fractions allowed)\n"
		"  --kernel FILE      boot this Linux kernel instead of a bare GUEST\n"
		"  --initrd FILE      its initramfs (an uncompressed cpio boots fastest)\n"
		"  --append ARGS      more kernel command-line arguments\n"
		"  --console stdio|none|FILE  where the guest's console goes (default stdio:\n"
		"                     standard input types into it too; on a terminal in raw\n"
		"                     mode, Ctrl-] leaves)\n"
		"  --name NAME        a control socket in the runtime folder (/run/labvisor/vms\n"
		"                     as root): `labvisor vm list/stats/stop` reach the VM, and\n"
		"                     NAME.vsock beside it: `vm exec/cp` reach a Linux guest's\n"
		"                     agent over virtio-vsock (docs/agent.md)\n"
		"  --init-script FILE a Linux guest's starter script: added to the initramfs as\n"
		"                     /etc/labvisor/start.sh, which Labvisor's /init runs\n"
		"  --vsock            give a bare guest the virtio-vsock device too (its\n"
		"                     virtio-mmio window's address is in RDX at entry)\n"
		"  --pvm auto|on|off  the PVM compatibility layer (default auto: on when the\n"
		"                     host's KVM is PVM)\n"
		"  --profile FILE     sample the guest's RIP every 10 ms; at the end FILE gets\n"
		"                     'count rip' lines, most frequent first\n"
		"                     (scripts/guest-profile FILE System.map names functions)\n"
		"  -h, --help         show this help\n"
		"\n"
		"Exit status: 0 when every vCPU halted (each vCPU's RAX is reported), or a\n"
		"Linux guest powered off or rebooted; 3 when a Linux guest's kernel panicked; the\n"
		"guest's code when it called the exit hypercall; 1 on a guest fault (triple\n"
		"fault, access to memory that does not exist, bad hypercall block); 2 when the\n"
		"VM could not be started; 124 on --timeout; 125 on an internal VMM error.\n",
		VMM_MAX_CPUS);
}

static double cycles_to_us(uint64_t cycles, uint64_t tsc_khz)
{
	return tsc_khz ? (double)cycles * 1000.0 / (double)tsc_khz : 0.0;
}

static void print_stats_table(const struct vmm_result *res)
{
	const struct vmm_stats *s = &res->stats;
	uint64_t total = 0, total_cycles = 0;

	fprintf(stderr, "%-12s %12s %14s %10s\n", "exit reason", "count", "total us", "mean us");
	for (unsigned r = 0; r < LV_EXIT_REASON_COUNT; r++) {
		const char *name = vmm_exit_reason_name(r);

		total += s->count[r];
		total_cycles += s->cycles[r];
		if (!s->reported[r]) {
			fprintf(stderr, "%-12s %12s %14s %10s  (not reported by this host)\n",
				name, "-", "-", "-");
		} else if (!s->timed[r]) {
			fprintf(stderr, "%-12s %12llu %14s %10s  (handled inside KVM: counted, "
				"not timed)\n", name, (unsigned long long)s->count[r], "-", "-");
		} else {
			double us = cycles_to_us(s->cycles[r], s->tsc_khz);

			fprintf(stderr, "%-12s %12llu %14.1f %10.2f\n", name,
				(unsigned long long)s->count[r], us,
				s->count[r] ? us / (double)s->count[r] : 0.0);
		}
	}
	fprintf(stderr, "%-12s %12llu %14.1f\n", "total", (unsigned long long)total,
		cycles_to_us(total_cycles, s->tsc_khz));
	if (s->nkvm) {
		fprintf(stderr, "KVM counters:");
		for (unsigned i = 0; i < s->nkvm; i++)
			fprintf(stderr, " %s=%llu", s->kvm[i].name, (unsigned long long)s->kvm[i].value);
		fprintf(stderr, "\n");
	}
}

static const char *end_name(enum vmm_end end)
{
	static const char *const names[] = {
		[VMM_END_HALTED] = "halted", [VMM_END_EXIT] = "exit",
		[VMM_END_TIMEOUT] = "timeout", [VMM_END_GUEST_FAULT] = "guest_fault",
		[VMM_END_VMM_ERROR] = "vmm_error", [VMM_END_POWEROFF] = "poweroff",
		[VMM_END_REBOOT] = "reboot", [VMM_END_PANIC] = "panic",
		[VMM_END_STOPPED] = "stopped",
	};
	return names[end];
}

/* The documented exit statuses of `labvisor vm run`. */
static int exit_status(const struct vmm_result *res)
{
	switch (res->end) {
	case VMM_END_HALTED:
	case VMM_END_POWEROFF:
	case VMM_END_REBOOT:
	case VMM_END_STOPPED:     return 0;
	case VMM_END_PANIC:       return 3;
	case VMM_END_EXIT:        return res->exit_code;
	case VMM_END_GUEST_FAULT: return 1;
	case VMM_END_TIMEOUT:     return 124;
	default:                  return 125;
	}
}

static json_t *stats_json(const struct vmm_result *res)
{
	const struct vmm_stats *s = &res->stats;
	json_t *reasons = json_array(), *kvm = json_object(), *vcpus = json_array();
	uint64_t total = 0, total_cycles = 0;

	for (unsigned r = 0; r < LV_EXIT_REASON_COUNT; r++) {
		total += s->count[r];
		total_cycles += s->cycles[r];
		json_array_append_new(reasons, json_pack(
			"{s:i, s:s, s:b, s:b, s:I, s:I, s:f}", "reason", (int)r,
			"name", vmm_exit_reason_name(r), "reported", s->reported[r],
			"timed", s->timed[r], "count", (json_int_t)s->count[r],
			"cycles", (json_int_t)s->cycles[r],
			"total_us", cycles_to_us(s->cycles[r], s->tsc_khz)));
	}
	for (unsigned i = 0; i < s->nkvm; i++)
		json_object_set_new(kvm, s->kvm[i].name, json_integer((json_int_t)s->kvm[i].value));
	for (unsigned i = 0; i < res->ncpus; i++)
		json_array_append_new(vcpus, json_pack("{s:i, s:b, s:I}", "id", (int)i,
			"halted", res->vcpu[i].halted, "rax", (json_int_t)res->vcpu[i].rax));
	return json_pack("{s:s, s:i, s:s, s:f, s:I, s:o, s:{s:I, s:I, s:f}, s:o, s:o}",
			 "end", end_name(res->end), "exit_code", exit_status(res),
			 "message", res->message, "wall_seconds", res->wall_sec,
			 "tsc_khz", (json_int_t)s->tsc_khz, "reasons", reasons,
			 "total", "count", (json_int_t)total, "cycles", (json_int_t)total_cycles,
			 "total_us", cycles_to_us(total_cycles, s->tsc_khz),
			 "kvm", kvm, "vcpus", vcpus);
}

static void report_end(const struct vmm_result *res)
{
	if ((res->end == VMM_END_EXIT && res->exit_code == 0) || res->end == VMM_END_POWEROFF)
		return;                         /* a clean exit(0) or poweroff says nothing */
	if (res->end != VMM_END_HALTED) {
		fprintf(stderr, "labvisor: %s\n", res->message);
		return;
	}
	for (unsigned i = 0; i < res->ncpus; i++) {
		if (res->ncpus == 1)
			fprintf(stderr, "halted: rax=%llu\n", (unsigned long long)res->vcpu[i].rax);
		else
			fprintf(stderr, "vcpu %u halted: rax=%llu\n", i,
				(unsigned long long)res->vcpu[i].rax);
	}
}

#define CMD "vm run"

/* --console stdio|none|FILE */
static int open_console(const char *arg, struct vmm_config *cfg)
{
	int fd;

	if (strcmp(arg, "stdio") == 0) {
		cfg->console_fd = STDOUT_FILENO;
		cfg->console_input = true;
		return 0;
	}
	cfg->console_input = false;
	fd = open(strcmp(arg, "none") == 0 ? "/dev/null" : arg,
		  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_error(CMD, "--console %s: %s", arg, strerror(errno));
	cfg->console_fd = fd;
	return 0;
}

static int parse_run_options(int argc, char **argv, struct vmm_config *cfg,
			     enum stats_mode *stats, const char **init_script)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "share", required_argument, NULL, 's' },
		{ "stats", optional_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "console", required_argument, NULL, 'C' },
		{ "pvm", required_argument, NULL, 'P' },
		{ "name", required_argument, NULL, 'N' },
		{ "vsock", no_argument, NULL, 'V' },
		{ "init-script", required_argument, NULL, 'I' },
		{ "profile", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const formats[] = { "elf", "flat", NULL };
	static const char *const stats_modes[] = { "table", "json", NULL };
	static const char *const pvm_modes[] = { "auto", "on", "off", NULL };
	unsigned long n;
	int c, i;

	argv[0] = (char *)"labvisor " CMD;     /* how getopt names us in its messages */
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((i = cli_choice(optarg, formats)) < 0)
				return cli_error(CMD, "--format must be elf or flat, not '%s'", optarg);
			cfg->format = i == 0 ? VMM_FORMAT_ELF : VMM_FORMAT_FLAT;
			break;
		case 'm':
			if (!lv_parse_size(optarg, &cfg->mem_size))
				return cli_error(CMD, "--mem: '%s' is not a size such as 16M or 1G",
						 optarg);
			break;
		case 'c':
			if (!lv_parse_uint(optarg, 1, VMM_MAX_CPUS, &n))
				return cli_error(CMD, "--cpus must be 1..%d", VMM_MAX_CPUS);
			cfg->cpus = (unsigned)n;
			break;
		case 's':
			cfg->share_dir = optarg;
			break;
		case 'S':
			if ((i = optarg ? cli_choice(optarg, stats_modes) : 0) < 0)
				return cli_error(CMD, "--stats takes table or json, not '%s'", optarg);
			*stats = i == 0 ? STATS_TABLE : STATS_JSON;
			break;
		case 't':
			if (!lv_parse_seconds(optarg, &cfg->timeout_sec))
				return cli_error(CMD, "--timeout: '%s' is not a positive number "
						 "of seconds", optarg);
			break;
		case 'k': cfg->kernel_path = optarg; break;
		case 'N': cfg->name = optarg; break;
		case 'V': cfg->vsock = true; break;
		case 'I': *init_script = optarg; break;
		case 'R':
			if (cfg->profile)
				fclose(cfg->profile);
			if (!(cfg->profile = fopen(optarg, "w")))
				return cli_error(CMD, "--profile %s: %s", optarg, strerror(errno));
			break;
		case 'i': cfg->initrd_path = optarg; break;
		case 'a': cfg->cmdline = optarg; break;
		case 'P':
			if ((i = cli_choice(optarg, pvm_modes)) < 0)
				return cli_error(CMD, "--pvm takes auto, on or off, not '%s'", optarg);
			cfg->pvm = (enum vmm_pvm)i;
			break;
		case 'C':
			if (open_console(optarg, cfg) < 0)
				return -1;
			break;
		case 'h':
			usage_vm(stdout);
			return 1;
		default:                /* getopt has said what is wrong */
			return cli_error(CMD, "try 'labvisor vm run --help'");
		}
	}
	if (*init_script && !cfg->initrd_path)
		return cli_error(CMD, "--init-script goes with --kernel and --initrd (it is added "
				 "to the initramfs)");
	if (cfg->kernel_path && optind == argc)
		return 0;
	if (cfg->kernel_path)
		return cli_error(CMD, "--kernel and a GUEST file exclude each other");
	if (cfg->initrd_path || cfg->cmdline)
		return cli_error(CMD, "--initrd, --append and --init-script go with --kernel");
	if (optind != argc - 1)
		return cli_error(CMD, "expected one GUEST file; try 'labvisor vm run --help'");
	cfg->guest_path = argv[optind];
	return 0;
}

static int cmd_vm_run(int argc, char **argv)
{
	struct vmm_config cfg = vmm_config_default();
	enum stats_mode stats = STATS_NONE;

	cfg.console_input = true;       /* --console stdio, the default */
	const char *init_script = NULL;
	struct vmm_result res;
	struct lv_err err;
	void *overlay = NULL;
	int rc = parse_run_options(argc, argv, &cfg, &stats, &init_script);

	if (rc != 0)
		return rc > 0 ? 0 : LV_EXIT_USAGE;
	if (init_script) {
		if (initramfs_overlay(init_script, &overlay, &cfg.initrd_extra_len, &err) < 0)
			return cli_error(CMD, "%s", err.msg), LV_EXIT_USAGE;
		cfg.initrd_extra = overlay;
	}
	/* a console reader that went away (| head) must not end the VM */
	signal(SIGPIPE, SIG_IGN);
	rc = vmm_run(&cfg, &res, &err);
	free(overlay);
	if (cfg.profile && fclose(cfg.profile) != 0 && rc == 0)
		fprintf(stderr, "labvisor vm run: --profile: %s\n", strerror(errno));
	if (rc < 0) {
		cli_error(CMD, "%s", err.msg);
		return LV_EXIT_USAGE;
	}
	fflush(stdout);
	report_end(&res);
	if (stats == STATS_TABLE) {
		print_stats_table(&res);
	} else if (stats == STATS_JSON) {
		json_t *j = stats_json(&res);

		json_dumpf(j, stderr, JSON_COMPACT);
		fputc('\n', stderr);
		json_decref(j);
	}
	return exit_status(&res);
}

int cmd_vm(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return cmd_vm_run(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "stats") == 0 ||
			  strcmp(argv[1], "stop") == 0 || strcmp(argv[1], "console") == 0))
		return cmd_vm_ctl(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "exec") == 0 || strcmp(argv[1], "cp") == 0))
		return cmd_vm_agent(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage_vm(stdout);
		return 0;
	}
	cli_error("vm", "expected run, list, exec, cp, console, stats or stop; try 'labvisor vm --help'");
	return LV_EXIT_USAGE;
}
