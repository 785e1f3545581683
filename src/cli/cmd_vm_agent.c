/*
 * labvisor vm exec | cp: commands run and files copied inside running Linux
 * guests, through the guest agent (docs/agent.md) on each VM's vsock socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "cli.h"
#include "labvisor/agent_proto.h"
#include "util/io.h"
#include "util/parse.h"
#include "vmm/control.h"
#include "vmm/vmm.h"

#define EXIT_AGENT 255          /* the command could not be run (as ssh does) */
#define MAX_VMS    256
#define MAX_ENV    64
#define DEFAULT_WAIT 10.0

static void usage_agent(FILE *out)
{
	fprintf(out,
		"Usage: labvisor vm exec [OPTIONS] NAME -- COMMAND [ARG...]\n"
		"       labvisor vm exec [OPTIONS] --all -- COMMAND [ARG...]\n"
		"       labvisor vm cp [--wait SEC] SRC DST    (NAME:PATH on one side)\n"
		"\n"
		"Runs a command in a running Linux guest (started with `vm run --name NAME`\n"
		"and an image from `labvisor image build`, which holds the agent), with its\n"
		"standard output and error streamed back; or copies one file in or out.\n"
		"With --all, the command runs in every running VM at once; each output\n"
		"line is prefixed with [NAME] and a status line per VM ends the run.\n"
		"\n"
		"Options:\n"
		"  -i, --interactive  send standard input to the command (default: none)\n"
		"  -e, --env K=V      set a variable for the command (repeatable)\n"
		"  -w, --workdir DIR  the command's working folder in the guest\n"
		"  --wait SEC         wait up to SEC seconds for a booting guest's agent\n"
		"                     (default %.0f)\n"
		"  --all              every running VM instead of NAME\n"
		"  -h, --help         show this help\n"
		"\n"
		"Exit status: exec: the command's status (128+N when killed by signal N);\n"
		"with --all, 0 when it succeeded in every VM, else 1; cp: 0 when copied.\n"
		"2 for a bad command line; %d when the VM or its agent could not run it.\n",
		DEFAULT_WAIT, EXIT_AGENT);
}

/* ---- exec ---- */

struct session {
	const char *name;
	int fd;
	struct agent_reader r;
	bool done;
	int code;
	char *partial[2];               /* --all: an unfinished line of out / err */
	size_t partial_len[2];
};

struct exec_opts {
	char **argv;
	const char *workdir;
	const char *env[MAX_ENV];
	unsigned nenv;
	bool interactive, all;
	double wait;
};

/* "cwd\0arg0\0...\0\0K=V\0..." */
static char *exec_payload(const struct exec_opts *o, uint32_t *len)
{
	size_t n = strlen(o->workdir ? o->workdir : "") + 2;
	char *buf, *p;

	for (char **a = o->argv; *a; a++)
		n += strlen(*a) + 1;
	for (unsigned i = 0; i < o->nenv; i++)
		n += strlen(o->env[i]) + 1;
	if (n > LV_AGENT_MAX_FRAME || !(p = buf = malloc(n)))
		return NULL;
	p = stpcpy(p, o->workdir ? o->workdir : "") + 1;
	for (char **a = o->argv; *a; a++)
		p = stpcpy(p, *a) + 1;
	*p++ = '\0';
	for (unsigned i = 0; i < o->nenv; i++)
		p = stpcpy(p, o->env[i]) + 1;
	*len = (uint32_t)(p - buf);
	return buf;
}

/* Output of one VM: as is, or line by line behind "[name] " (--all). */
static void emit(struct session *s, bool prefixed, int stream, const uint8_t *data, size_t len)
{
	int fd = stream ? STDERR_FILENO : STDOUT_FILENO;
	char **part = &s->partial[stream];
	size_t *plen = &s->partial_len[stream];

	if (!prefixed) {
		lv_write_full(fd, data, len);
		return;
	}
	while (len) {
		const uint8_t *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) + 1 : len;
		char *grown = realloc(*part, *plen + take + 1);

		if (!grown)
			return;
		*part = grown;
		memcpy(*part + *plen, data, take);
		*plen += take;
		data += take;
		len -= take;
		if (nl || !len) {
			if (!nl && len == 0 && !s->done)
				break;          /* keep the unfinished line for later */
			dprintf(fd, "[%s] %.*s%s", s->name, (int)*plen, *part, nl ? "" : "\n");
			*plen = 0;
		}
	}
}

static void flush_partial(struct session *s)
{
	for (int i = 0; i < 2; i++) {
		if (s->partial_len[i])
			dprintf(i ? STDERR_FILENO : STDOUT_FILENO, "[%s] %.*s\n", s->name,
				(int)s->partial_len[i], s->partial[i]);
		free(s->partial[i]);
		s->partial[i] = NULL;
		s->partial_len[i] = 0;
	}
}

static int status_code(uint32_t st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : EXIT_AGENT;
}

static void finish(struct session *s, int code)
{
	s->done = true;
	s->code = code;
	close(s->fd);
	s->fd = -1;
}

static void session_frames(struct session *s, bool prefixed)
{
	uint8_t type, *data;
	uint32_t len, st;
	bool bad;

	while (!s->done && agent_reader_next(&s->r, &type, &data, &len, &bad)) {
		if (type == LV_AF_OUT || type == LV_AF_ERR) {
			emit(s, prefixed, type == LV_AF_ERR, data, len);
		} else if (type == LV_AF_EXIT && len == 4) {
			memcpy(&st, data, 4);
			finish(s, status_code(st));
		} else if (type == LV_AF_ERROR) {
			fprintf(stderr, "labvisor vm exec: VM '%s': %.*s\n", s->name, (int)len, data);
			finish(s, EXIT_AGENT);
		} else {
			bad = true;
			break;
		}
	}
	if (bad && !s->done) {
		fprintf(stderr, "labvisor vm exec: VM '%s': the agent sent a malformed frame\n",
			s->name);
		finish(s, EXIT_AGENT);
	}
}

static void session_read(struct session *s, bool prefixed)
{
	int rc = agent_reader_fill(&s->r, s->fd);

	session_frames(s, prefixed);
	if (rc <= 0 && !s->done) {
		fprintf(stderr, "labvisor vm exec: VM '%s': the connection to its agent ended "
			"before the command did\n", s->name);
		finish(s, EXIT_AGENT);
	}
}

/* Standard input to the one session: STDIN frames, an empty one at its end. */
static bool forward_stdin(struct session *s)
{
	char buf[65536];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0)
		n = 0;
	agent_send(s->fd, LV_AF_STDIN, buf, (uint32_t)n);
	return n > 0;
}

static void run_sessions(struct session *ss, unsigned n, bool prefixed, bool interactive)
{
	struct pollfd p[MAX_VMS + 1];
	bool in_open = interactive;

	for (;;) {
		unsigned live = 0;

		for (unsigned i = 0; i < n; i++) {
			p[i] = (struct pollfd){ .fd = ss[i].fd, .events = POLLIN };
			live += !ss[i].done;
		}
		p[n] = (struct pollfd){ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN };
		if (!live)
			break;
		if (poll(p, n + 1, -1) < 0 && errno != EINTR)
			break;
		for (unsigned i = 0; i < n; i++)
			if (p[i].revents && !ss[i].done)
				session_read(&ss[i], prefixed);
		if (p[n].revents && !ss[0].done)
			in_open = forward_stdin(&ss[0]);
	}
}

static bool start_session(struct session *s, const struct exec_opts *o, const char *payload,
			  uint32_t len)
{
	struct lv_err err;

	s->fd = agent_connect(s->name, o->wait, &err);
	if (s->fd < 0) {
		fprintf(stderr, "labvisor vm exec: %s\n", err.msg);
		s->done = true;
		s->code = EXIT_AGENT;
		return false;
	}
	if (!agent_send(s->fd, LV_AF_EXEC, payload, len) ||
	    (!o->interactive && !agent_send(s->fd, LV_AF_STDIN, "", 0))) {
		fprintf(stderr, "labvisor vm exec: VM '%s': the agent hung up\n", s->name);
		finish(s, EXIT_AGENT);
		return false;
	}
	return true;
}

static int exec_in(const struct exec_opts *o, const char *const *names, unsigned n)
{
	struct session *ss = calloc(n ? n : 1, sizeof(*ss));
	uint32_t len;
	char *payload = exec_payload(o, &len);
	int worst = 0;

	if (!ss || !payload) {
		free(ss);
		free(payload);
		return cli_error("vm exec", "the command line is too long"), LV_EXIT_USAGE;
	}
	for (unsigned i = 0; i < n; i++) {
		ss[i].name = names[i];
		start_session(&ss[i], o, payload, len);
	}
	run_sessions(ss, n, o->all, o->interactive && !o->all);
	for (unsigned i = 0; i < n; i++) {
		flush_partial(&ss[i]);
		if (o->all)
			fprintf(stderr, "[%s] exit %d\n", ss[i].name, ss[i].code);
		if (ss[i].code)
			worst = ss[i].code;
		agent_reader_free(&ss[i].r);
	}
	free(ss);
	free(payload);
	if (o->all)
		return worst ? 1 : 0;
	return n ? worst : EXIT_AGENT;
}

static int vm_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interactive", no_argument, NULL, 'i' }, { "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' }, { "wait", required_argument, NULL, 'W' },
		{ "all", no_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	static char names[MAX_VMS][CONTROL_NAME_MAX];
	const char *list[MAX_VMS];
	struct exec_opts o = { .wait = DEFAULT_WAIT };
	unsigned n = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+ie:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o.interactive = true; break;
		case 'e':
			if (o.nenv == MAX_ENV || !strchr(optarg, '=') || optarg[0] == '=')
				return cli_error("vm exec", "--env takes NAME=VALUE (up to %d)", MAX_ENV),
				       LV_EXIT_USAGE;
			o.env[o.nenv++] = optarg;
			break;
		case 'w': o.workdir = optarg; break;
		case 'W':
			if (!lv_parse_seconds(optarg, &o.wait))
				return cli_error("vm exec", "--wait takes seconds, got '%s'", optarg),
				       LV_EXIT_USAGE;
			break;
		case 'a': o.all = true; break;
		case 'h': usage_agent(stdout); return 0;
		default: usage_agent(stderr); return LV_EXIT_USAGE;
		}
	}
	if (!o.all && optind < argc)
		list[n++] = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if ((!o.all && n == 0) || optind >= argc)
		return cli_error("vm exec", "give %s, then -- and the command",
				 o.all ? "--all" : "a VM name"), LV_EXIT_USAGE;
	o.argv = argv + optind;
	if (o.all) {
		n = control_list(vmm_runtime_dir(), names, MAX_VMS);
		for (unsigned i = 0; i < n; i++)
			list[i] = names[i];
		if (!n)
			fprintf(stderr, "labvisor vm exec: no VM with a --name is running\n");
	}
	return exec_in(&o, list, n);
}

/* ---- cp ---- */

/* "NAME:PATH" with a valid VM name before the colon (no '/'): split it. */
static bool vm_path(char *arg, char **name, char **path)
{
	char *colon = strchr(arg, ':');
	struct sockaddr_un sun;
	struct lv_err err;
	bool ok;

	if (!colon || memchr(arg, '/', (size_t)(colon - arg)))
		return false;
	*colon = '\0';
	ok = control_socket_path(vmm_runtime_dir(), arg, &sun, &err) == 0;
	if (!ok || !name) {
		*colon = ':';
		return ok;
	}
	*name = arg;
	*path = colon + 1;
	return true;
}

/* The answer that ends a request: OK/FILE, or ERROR (said). */
static bool expect(int fd, struct agent_reader *r, const char *name, uint8_t want,
		   uint8_t **data, uint32_t *len)
{
	uint8_t type;

	if (!agent_recv(fd, r, &type, data, len)) {
		fprintf(stderr, "labvisor vm cp: VM '%s': the agent hung up\n", name);
		return false;
	}
	if (type == LV_AF_ERROR) {
		fprintf(stderr, "labvisor vm cp: VM '%s': %.*s\n", name, (int)*len, *data);
		return false;
	}
	if (type != want) {
		fprintf(stderr, "labvisor vm cp: VM '%s': unexpected answer from the agent\n", name);
		return false;
	}
	return true;
}

static int copy_in(const char *src, const char *name, const char *dst, double wait)
{
	struct agent_reader r = { 0 };
	static char buf[256 << 10];
	struct lv_err err;
	struct stat st;
	uint8_t *data;
	uint32_t len, mode;
	char *req;
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC), fd, rc = EXIT_AGENT;

	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		cli_error("vm cp", "%s: %s", src, in < 0 ? strerror(errno) : "not a regular file");
		if (in >= 0)
			close(in);
		return LV_EXIT_USAGE;
	}
	if ((fd = agent_connect(name, wait, &err)) < 0) {
		close(in);
		return cli_error("vm cp", "%s", err.msg), EXIT_AGENT;
	}
	len = 4 + (uint32_t)strlen(dst) + 1;
	req = malloc(len);
	mode = st.st_mode & 07777;
	memcpy(req, &mode, 4);
	strcpy(req + 4, dst);
	if (agent_send(fd, LV_AF_PUT, req, len)) {
		while ((n = read(in, buf, sizeof(buf))) > 0 &&
		       agent_send(fd, LV_AF_DATA, buf, (uint32_t)n))
			;
		if (n == 0 && agent_send(fd, LV_AF_DATA, "", 0) &&
		    expect(fd, &r, name, LV_AF_OK, &data, &len))
			rc = 0;
		else if (n < 0)
			cli_error("vm cp", "reading %s: %s", src, strerror(errno));
	}
	free(req);
	agent_reader_free(&r);
	close(fd);
	close(in);
	return rc;
}

static int receive_file(int fd, struct agent_reader *r, const char *name, const char *dst,
			uint32_t mode)
{
	char tmp[4200];
	uint8_t type, *data;
	uint32_t len;
	int out;

	snprintf(tmp, sizeof(tmp), "%s.lv-cp-%d", dst, (int)getpid());
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777)) < 0)
		return cli_error("vm cp", "%s: %s", tmp, strerror(errno)), EXIT_AGENT;
	while (agent_recv(fd, r, &type, &data, &len) && type == LV_AF_DATA && len)
		if (!lv_write_full(out, data, len)) {
			cli_error("vm cp", "writing %s: %s", dst, strerror(errno));
			type = 0;
			break;
		}
	if (type != LV_AF_DATA || len || close(out) < 0 || rename(tmp, dst) < 0) {
		if (type == LV_AF_DATA)
			cli_error("vm cp", "%s: %s", dst, strerror(errno));
		else if (type)
			fprintf(stderr, "labvisor vm cp: VM '%s': the copy ended early\n", name);
		unlink(tmp);
		return EXIT_AGENT;
	}
	return 0;
}

static int copy_out(const char *name, const char *src, const char *dst, double wait)
{
	struct agent_reader r = { 0 };
	char target[4096];
	struct lv_err err;
	struct stat st;
	uint8_t *data;
	uint32_t len, mode;
	const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	int fd, rc = EXIT_AGENT;

	/* into a folder: under the file's own name */
	snprintf(target, sizeof(target), "%s", dst);
	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(target, sizeof(target), "%s/%s", dst, base);
	if ((fd = agent_connect(name, wait, &err)) < 0)
		return cli_error("vm cp", "%s", err.msg), EXIT_AGENT;
	if (agent_send(fd, LV_AF_GET, src, (uint32_t)strlen(src) + 1) &&
	    expect(fd, &r, name, LV_AF_FILE, &data, &len) && len == 12) {
		memcpy(&mode, data + 8, 4);
		rc = receive_file(fd, &r, name, target, mode);
	}
	agent_reader_free(&r);
	close(fd);
	return rc;
}

static int vm_cp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'W' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	double wait = DEFAULT_WAIT;
	char *name, *path, *src, *dst;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'W':
			if (!lv_parse_seconds(optarg, &wait))
				return cli_error("vm cp", "--wait takes seconds, got '%s'", optarg),
				       LV_EXIT_USAGE;
			break;
		case 'h': usage_agent(stdout); return 0;
		default: usage_agent(stderr); return LV_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_error("vm cp", "give SRC and DST, one of them NAME:PATH"), LV_EXIT_USAGE;
	src = argv[optind];
	dst = argv[optind + 1];
	if (vm_path(src, NULL, NULL) == vm_path(dst, NULL, NULL))
		return cli_error("vm cp", "exactly one of SRC and DST must be NAME:PATH (a path in "
				 "a running VM)"), LV_EXIT_USAGE;
	if (vm_path(src, &name, &path))
		return *path ? copy_out(name, path, dst, wait)
			     : (cli_error("vm cp", "no path after '%s:'", name), LV_EXIT_USAGE);
	vm_path(dst, &name, &path);
	return *path ? copy_in(src, name, path, wait)
		     : (cli_error("vm cp", "no path after '%s:'", name), LV_EXIT_USAGE);
}

int cmd_vm_agent(int argc, char **argv)
{
	return strcmp(argv[0], "exec") == 0 ? vm_exec(argc, argv) : vm_cp(argc, argv);
}
