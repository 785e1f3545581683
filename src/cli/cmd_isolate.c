/* labvisor isolate: command line over libsandbox (src/sandbox/sandbox.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sandbox/sandbox.h"
#include "util/parse.h"

#define CMD "isolate"

static void usage_isolate(FILE *out)
{
	fprintf(out,
		"Usage: labvisor isolate [OPTIONS] -- PROGRAM [ARGS...]\n"
		"\n"
		"Runs PROGRAM in a fresh sandbox: new user, mount, pid, ipc, uts, net and cgroup\n"
		"namespaces; a read-only root; cgroup limits on memory, processes and CPU time;\n"
		"rlimits; a seccomp filter; no capabilities.  Prints one verdict line on\n"
		"standard error: OK, TIME_LIMIT, MEMORY_LIMIT, OUTPUT_LIMIT, RUNTIME_ERROR or\n"
		"SANDBOX_ERROR.  The program's output passes through labvisor (see --output).\n"
		"\n"
		"File system:\n"
		"  --root DIR          root file system, read-only (default: the host's /usr,\n"
		"                      /bin, /lib*, /sbin read-only and a minimal /etc)\n"
		"  --dir DIR           writable work directory, same path inside; the working\n"
		"                      directory (default: an empty /tmp)\n"
		"  --bind SRC[:DST][:rw]  also mount SRC (read-only unless :rw); repeatable\n"
		"Limits (0 = none):\n"
		"  --time SEC          CPU time of all processes together\n"
		"  --wall SEC          wall-clock time\n"
		"  --mem MIB           memory of all processes together (default 512)\n"
		"  --procs N           processes at once (default 64)\n"
		"  --output MIB        stdout + stderr captured (default 64)\n"
		"  --fsize MIB         largest file written (default 64)\n"
		"  --stack MIB         stack size (default 8)\n"
		"  --open-files N      open descriptors per process (default 64)\n"
		"Input and output:\n"
		"  --stdin FILE        standard input (default /dev/null)\n"
		"  --stdout FILE       write the program's stdout to FILE (default: ours)\n"
		"  --stderr FILE       write the program's stderr to FILE (default: ours)\n"
		"  --env K=V           set a variable; the environment is otherwise clean\n"
		"                      but for PATH and HOME; repeatable\n"
		"Isolation:\n"
		"  --net none|veth     no network but loopback (default), or a veth pair to\n"
		"                      the host (box N: host 10.199.0.0+4N+1, sandbox +2, /30)\n"
		"  --hostname NAME     host name inside (default: sandbox)\n"
		"  --syscall-allow NAME  take a system call off the default deny list; repeatable\n"
		"  --syscall-deny NAME   deny another system call (EPERM); repeatable\n"
		"Control:\n"
		"  --id N              sandbox id 0..%d (default: the first free one)\n"
		"  --report FILE       write the verdict as JSON\n"
		"  --cleanup           remove what crashed earlier runs left, then exit\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: 0 for OK; 1 when the program failed or hit a limit; 2 when the\n"
		"sandbox could not run it (bad options, missing program, a host without user\n"
		"namespaces or cgroups, SANDBOX_ERROR).\n",
		SB_MAX_ID);
}

static int parse_bind(char *arg, struct sb_bind *b)
{
	char *parts[3] = { arg, NULL, NULL };
	unsigned n = 1;

	for (char *p = strchr(arg, ':'); p && n < 3; p = strchr(p + 1, ':')) {
		*p = '\0';
		parts[n++] = p + 1;
	}
	b->src = parts[0];
	if (n >= 2 && (strcmp(parts[n - 1], "rw") == 0 || strcmp(parts[n - 1], "ro") == 0)) {
		b->rw = strcmp(parts[n - 1], "rw") == 0;
		n--;
	}
	b->dst = n == 2 ? parts[1] : NULL;
	return b->src[0] && (n < 3) ? 0 : -1;
}

static int parse_mib(const char *opt, const char *arg, uint64_t *out)
{
	unsigned long v;

	if (!lv_parse_uint(arg, 0, 1ul << 30, &v))
		return cli_error(CMD, "%s takes a whole number of MiB, not '%s'", opt, arg);
	*out = (uint64_t)v << 20;
	return 0;
}

enum {
	O_ROOT = 256, O_DIR, O_BIND, O_TIME, O_WALL, O_MEM, O_PROCS, O_OUTPUT, O_FSIZE,
	O_STACK, O_FILES, O_STDIN, O_STDOUT, O_STDERR, O_ENV, O_NET, O_HOSTNAME, O_REPORT,
	O_CLEANUP, O_ID, O_ALLOW, O_DENY,
};

struct isolate_opts {
	struct sandbox_config cfg;
	const char *report;
	bool cleanup;
};

static int parse_one(int c, char *arg, struct isolate_opts *o)
{
	struct sandbox_config *cfg = &o->cfg;
	static const char *const nets[] = { "none", "veth", NULL };
	unsigned long n;
	int i;

	switch (c) {
	case O_ROOT: cfg->root = arg; return 0;
	case O_DIR: cfg->dir = arg; return 0;
	case O_BIND:
		if (cfg->nbinds == SB_MAX_BINDS)
			return cli_error(CMD, "at most %d --bind options", SB_MAX_BINDS);
		if (parse_bind(arg, &cfg->binds[cfg->nbinds++]) < 0)
			return cli_error(CMD, "--bind takes SRC[:DST][:rw]");
		return 0;
	case O_TIME:
	case O_WALL:
		if (!lv_parse_seconds(arg, c == O_TIME ? &cfg->cpu_sec : &cfg->wall_sec))
			return cli_error(CMD, "%s takes a positive number of seconds, not '%s'",
					 c == O_TIME ? "--time" : "--wall", arg);
		return 0;
	case O_MEM: return parse_mib("--mem", arg, &cfg->mem_bytes);
	case O_OUTPUT: return parse_mib("--output", arg, &cfg->output_bytes);
	case O_FSIZE: return parse_mib("--fsize", arg, &cfg->fsize_bytes);
	case O_STACK: return parse_mib("--stack", arg, &cfg->stack_bytes);
	case O_PROCS:
	case O_FILES:
	case O_ID:
		if (!lv_parse_uint(arg, c == O_FILES ? 4 : 0, c == O_ID ? SB_MAX_ID : 1u << 20, &n))
			return cli_error(CMD, "%s: '%s' is not a valid number", c == O_PROCS ?
					 "--procs" : c == O_FILES ? "--open-files" : "--id", arg);
		if (c == O_PROCS) cfg->procs = (unsigned)n;
		else if (c == O_FILES) cfg->open_files = (unsigned)n;
		else cfg->id = (int)n;
		return 0;
	case O_STDIN: cfg->stdin_path = arg; return 0;
	case O_STDOUT: cfg->stdout_path = arg; return 0;
	case O_STDERR: cfg->stderr_path = arg; return 0;
	case O_ENV:
		if (!strchr(arg, '=') || arg[0] == '=')
			return cli_error(CMD, "--env takes K=V, not '%s'", arg);
		if (cfg->nenv == SB_MAX_ENV)
			return cli_error(CMD, "at most %d --env options", SB_MAX_ENV);
		cfg->env[cfg->nenv++] = arg;
		return 0;
	case O_NET:
		if ((i = cli_choice(arg, nets)) < 0)
			return cli_error(CMD, "--net takes none or veth, not '%s'", arg);
		cfg->net = i == 0 ? SB_NET_NONE : SB_NET_VETH;
		return 0;
	case O_HOSTNAME: cfg->hostname = arg; return 0;
	case O_REPORT: o->report = arg; return 0;
	case O_CLEANUP: o->cleanup = true; return 0;
	case O_ALLOW:
	case O_DENY:
		if ((c == O_ALLOW ? cfg->nallow : cfg->ndeny) == SB_MAX_SYSCALL_RULES)
			return cli_error(CMD, "too many --syscall-allow/--syscall-deny options");
		if (c == O_ALLOW)
			cfg->syscall_allow[cfg->nallow++] = arg;
		else
			cfg->syscall_deny[cfg->ndeny++] = arg;
		return 0;
	default:
		return cli_error(CMD, "try 'labvisor isolate --help'");
	}
}

static int parse_isolate(int argc, char **argv, struct isolate_opts *o)
{
	static const struct option opts[] = {
		{ "root", 1, NULL, O_ROOT }, { "dir", 1, NULL, O_DIR }, { "bind", 1, NULL, O_BIND },
		{ "time", 1, NULL, O_TIME }, { "wall", 1, NULL, O_WALL }, { "mem", 1, NULL, O_MEM },
		{ "procs", 1, NULL, O_PROCS }, { "output", 1, NULL, O_OUTPUT },
		{ "fsize", 1, NULL, O_FSIZE }, { "stack", 1, NULL, O_STACK },
		{ "open-files", 1, NULL, O_FILES }, { "stdin", 1, NULL, O_STDIN },
		{ "stdout", 1, NULL, O_STDOUT }, { "stderr", 1, NULL, O_STDERR },
		{ "env", 1, NULL, O_ENV }, { "net", 1, NULL, O_NET },
		{ "hostname", 1, NULL, O_HOSTNAME }, { "report", 1, NULL, O_REPORT },
		{ "cleanup", 0, NULL, O_CLEANUP }, { "id", 1, NULL, O_ID },
		{ "syscall-allow", 1, NULL, O_ALLOW }, { "syscall-deny", 1, NULL, O_DENY },
		{ "help", 0, NULL, 'h' }, { 0 },
	};
	int c;

	argv[0] = (char *)"labvisor " CMD;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage_isolate(stdout);
			return 1;
		}
		if (parse_one(c, optarg, o) < 0)
			return -1;
	}
	if (!o->cleanup && optind >= argc)
		return cli_error(CMD, "no PROGRAM given: labvisor isolate [OPTIONS] -- PROGRAM "
				 "[ARGS...]; try 'labvisor isolate --help'");
	o->cfg.argv = argv + optind;
	return 0;
}

static void print_verdict(const struct sandbox_report *r)
{
	fprintf(stderr, "labvisor isolate: %s", sandbox_status_name(r->status));
	if (r->status == SB_SANDBOX_ERROR) {
		fprintf(stderr, ": %s\n", r->message);
		return;
	}
	if (r->signal)
		fprintf(stderr, " (signal %d)", r->signal);
	else
		fprintf(stderr, " (exit %d)", r->exit_code);
	if (r->message[0])
		fprintf(stderr, " %s;", r->message);
	fprintf(stderr, " cpu %.3f s, wall %.3f s, memory %llu KiB, %llu process(es), "
		"cgroup v%d, box %d\n", r->cpu_sec, r->wall_sec,
		(unsigned long long)r->max_rss_kib, (unsigned long long)r->processes,
		r->cgroup_version, r->id);
}

static int write_report(const char *path, const struct sandbox_report *r)
{
	char *json = sandbox_report_json(r);
	FILE *f = fopen(path, "w");
	int ok = f && json && fputs(json, f) >= 0 && fputc('\n', f) != EOF;

	if (f && fclose(f) != 0)
		ok = 0;
	free(json);
	if (!ok)
		return cli_error(CMD, "cannot write the report %s", path);
	return 0;
}

int cmd_isolate(int argc, char **argv)
{
	struct isolate_opts o = { .cfg = sandbox_config_default() };
	struct sandbox_report rep;
	struct lv_err err;
	int rc = parse_isolate(argc, argv, &o);

	if (rc != 0)
		return rc > 0 ? 0 : LV_EXIT_USAGE;
	if (o.cleanup) {
		rc = sandbox_cleanup(&err);
		if (rc < 0)
			return cli_error(CMD, "cleanup: %s", err.msg), LV_EXIT_USAGE;
		fprintf(stderr, "labvisor isolate: cleaned up %d sandbox(es)\n", rc);
		return 0;
	}
	if (sandbox_run(&o.cfg, &rep, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		rep.status = SB_SANDBOX_ERROR;
		snprintf(rep.message, sizeof(rep.message), "%s", err.msg);
		if (o.report)
			write_report(o.report, &rep);
		return LV_EXIT_USAGE;
	}
	print_verdict(&rep);
	if (o.report && write_report(o.report, &rep) < 0)
		return LV_EXIT_USAGE;
	return rep.status == SB_OK ? 0 : rep.status == SB_SANDBOX_ERROR ? LV_EXIT_USAGE : 1;
}
