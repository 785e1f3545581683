#include "testrun.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "compare.h"
#include "framework.h"

#define DIFF_LINES 40

/* The instructor's checker gets limits of its own, not the student's. */
static const struct limits checker_limits = {
	.time = 10, .wall = 30, .memory_mib = 512, .processes = 64, .output_kib = 64,
};

char *read_text(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, max + 1);
	size_t n = 0;

	if (f && buf)
		n = fread(buf, 1, max, f);
	if (f)
		fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Text appended to a growing string (NULL-safe). */
static void appendf(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void appendf(char **s, const char *fmt, ...)
{
	size_t old = *s ? strlen(*s) : 0;
	char *more = NULL, *grown;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grown = realloc(*s, old + (size_t)n + 1);
	if (grown) {
		memcpy(grown + old, more, (size_t)n + 1);
		*s = grown;
	}
	free(more);
}

/* The same step without a sandbox: for measuring what the sandbox costs. */
static int step_run_bare(const struct step_io *io, struct sandbox_report *rep, struct lv_err *err)
{
	struct timespec t0, t1;
	int status;
	pid_t pid;

	memset(rep, 0, sizeof(*rep));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		int in = open(io->stdin_path ? io->stdin_path : "/dev/null", O_RDONLY);
		int out = open(io->stdout_path ? io->stdout_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int errs = io->stderr_path && io->stdout_path && !strcmp(io->stderr_path, io->stdout_path)
			? out : open(io->stderr_path ? io->stderr_path : "/dev/null",
				     O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (chdir(io->dir) < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errs, 2) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", io->command, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return lv_err_sys(err, errno, "running %s", io->command);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep->wall_sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	rep->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	rep->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	rep->status = status == 0 ? SB_OK : SB_RUNTIME_ERROR;
	return 0;
}

struct sandbox_config grade_base_config(const struct assignment *a, char *root, size_t len)
{
	struct sandbox_config cfg = sandbox_config_default();

	if (a->root) {
		snprintf(root, len, "%s/%s", a->dir, a->root);
		cfg.root = root;
	}
	return cfg;
}

int step_run(const struct grade_env *env, const struct step_io *io, struct sandbox_report *rep,
	     struct lv_err *err)
{
	char root[PATH_MAX * 2];
	struct sandbox_config cfg = grade_base_config(env->a, root, sizeof(root));
	char *argv[] = { "/bin/sh", "-c", (char *)io->command, NULL };

	if (env->unsandboxed)
		return step_run_bare(io, rep, err);
	if (env->image_lower)
		cfg.overlay_lower = env->image_lower;
	cfg.dir = io->dir;
	cfg.cpu_sec = io->limits->time;
	cfg.wall_sec = io->limits->wall;
	cfg.mem_bytes = (uint64_t)io->limits->memory_mib << 20;
	cfg.procs = io->limits->processes;
	cfg.output_bytes = (uint64_t)io->limits->output_kib << 10;
	cfg.stdin_path = io->stdin_path;
	cfg.stdout_path = io->stdout_path;
	cfg.stderr_path = io->stderr_path;
	cfg.argv = argv;
	if (env->session && !env->image_lower)
		return sandbox_session_run(env->session, &cfg, rep, err);
	return sandbox_run(&cfg, rep, err);
}

/* A fresh copy of the built files, plus the test's own files. */
static int prepare_dir(const struct assignment *a, const struct test *t, const char *build_dir,
		       const char *dir, struct lv_err *err)
{
	char src[PATH_MAX * 2];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (mkdir(dir, 0700) < 0)
		return lv_err_sys(err, errno, "mkdir %s", dir);
	d = opendir(build_dir);
	if (!d)
		return lv_err_sys(err, errno, "%s", build_dir);
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(src, sizeof(src), "%s/%s", build_dir, e->d_name);
		rc = copy_into(src, dir, err);
	}
	closedir(d);
	for (size_t i = 0; rc == 0 && t->files && t->files[i]; i++) {
		snprintf(src, sizeof(src), "%s/%s", a->dir, t->files[i]);
		rc = copy_into(src, dir, err);
	}
	return rc;
}

/* Test data (stdin, expected output) in a file only its owner can read. */
static void write_private(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	if (fd >= 0) {
		if (write(fd, text, len) != (ssize_t)len) {
			/* the step that reads it reports what is missing */
		}
		close(fd);
	}
}

/* The expected text (inline or a file of the assignment). */
static char *expected_text(const struct assignment *a, const struct expected *e)
{
	char path[PATH_MAX * 2];

	if (e->text)
		return strdup(e->text);
	snprintf(path, sizeof(path), "%s/%s", a->dir, e->file);
	return read_text(path, 64u << 20);
}

/* A file holding the test's standard input, outside the sandbox's folder. */
static const char *stdin_file(const struct assignment *a, const struct test *t, const char *tdir,
			      char *buf, size_t len)
{
	if (!t->stdin_data.set)
		return NULL;
	if (t->stdin_data.file) {
		snprintf(buf, len, "%s/%s", a->dir, t->stdin_data.file);
		return buf;
	}
	snprintf(buf, len, "%s/stdin", tdir);
	write_private(buf, t->stdin_data.text);
	return buf;
}

/* A verdict of the sandbox that settles the test by itself. */
static bool limit_status(const struct sandbox_report *rep, enum test_status *st)
{
	switch (rep->status) {
	case SB_TIME_LIMIT:   *st = TS_TIME_LIMIT; return true;
	case SB_MEMORY_LIMIT: *st = TS_MEMORY_LIMIT; return true;
	case SB_OUTPUT_LIMIT: *st = TS_OUTPUT_LIMIT; return true;
	case SB_RUNTIME_ERROR:
		if (rep->signal) {
			*st = TS_CRASHED;
			return true;
		}
		return false;
	default: return false;
	}
}

struct ran {
	struct sandbox_report rep;
	char *out, *errs;
	char tdir[PATH_MAX], dir[PATH_MAX + 16];
};

static int run_program(const struct grade_env *env, const struct test *t, size_t index,
		       struct ran *x, struct lv_err *err)
{
	const struct assignment *a = env->a;
	char in[PATH_MAX * 2], o[PATH_MAX + 16], e[PATH_MAX + 16];
	const size_t cap = (size_t)t->limits.output_kib << 10;
	struct step_io io = { .command = t->command, .limits = &t->limits,
			      .stdout_path = o, .stderr_path = e };

	snprintf(x->tdir, sizeof(x->tdir), "%s/test-%zu", env->work, index + 1);
	snprintf(x->dir, sizeof(x->dir), "%s/w", x->tdir);
	snprintf(o, sizeof(o), "%s/stdout", x->tdir);
	snprintf(e, sizeof(e), "%s/stderr", x->tdir);
	if (mkdir(x->tdir, 0711) < 0)
		return lv_err_sys(err, errno, "mkdir %s", x->tdir);
	if (prepare_dir(a, t, env->build_dir, x->dir, err) < 0)
		return -1;
	io.dir = x->dir;
	io.stdin_path = stdin_file(a, t, x->tdir, in, sizeof(in));
	if (step_run(env, &io, &x->rep, err) < 0)
		return -1;
	if (x->rep.status == SB_SANDBOX_ERROR)
		return lv_err_set(err, "sandbox: %s", x->rep.message);
	x->out = read_text(o, cap);
	x->errs = read_text(e, cap);
	return 0;
}

static void judge_stream(const char *what, const char *expected, const char *actual,
			 const struct test *t, bool *ok, char **msg)
{
	int m = output_matches(expected, actual, t->compare, t->tolerance);

	if (m == 1)
		return;
	*ok = false;
	if (m < 0) {
		appendf(msg, "the expected %s is not a valid regular expression\n", what);
		return;
	}
	if (t->compare == CMP_REGEX) {
		appendf(msg, "%s does not match /%s/\n", what, expected);
	} else {
		char *d = output_diff(expected, actual, DIFF_LINES);

		appendf(msg, "%s differs (- expected, + yours):\n%s", what, d);
		free(d);
	}
}

static void judge_io(const struct assignment *a, const struct test *t, struct ran *x,
		     struct test_result *r)
{
	bool ok = true;
	char *msg = NULL;

	if (t->exit_set && x->rep.exit_code != t->exit_code) {
		ok = false;
		appendf(&msg, "exit status %d, expected %d\n", x->rep.exit_code, t->exit_code);
	}
	if (t->out.set) {
		char *want = expected_text(a, &t->out);

		judge_stream("stdout", want, x->out, t, &ok, &msg);
		free(want);
	}
	if (t->err.set) {
		char *want = expected_text(a, &t->err);

		judge_stream("stderr", want, x->errs, t, &ok, &msg);
		free(want);
	}
	r->status = ok ? TS_PASSED : TS_FAILED;
	r->score = ok ? t->points : 0;
	r->staff_output = msg;
}

/* The checker gets input, expected and output files and prints "SCORE [message]". */
static void judge_checker(const struct grade_env *env, const struct test *t, struct ran *x,
			  struct test_result *r, struct lv_err *err)
{
	const struct assignment *a = env->a;
	char cdir[PATH_MAX + 16], path[PATH_MAX * 2], o[PATH_MAX + 16], cmd[PATH_MAX + 64];
	const char *base = strrchr(t->checker, '/') ? strrchr(t->checker, '/') + 1 : t->checker;
	struct step_io io = { .dir = cdir, .command = cmd, .limits = &checker_limits,
			      .stdout_path = o };
	struct sandbox_report rep;
	char *want = t->checker_data.set ? expected_text(a, &t->checker_data) : strdup("");
	char *in = t->stdin_data.set ? expected_text(a, &t->stdin_data) : strdup("");
	char *verdict;
	double score = -1;
	int used = 0;
	const char *files[][2] = { { "input", in }, { "expected", want }, { "output", x->out } };

	snprintf(cdir, sizeof(cdir), "%s/check", x->tdir);
	snprintf(o, sizeof(o), "%s/checker.out", x->tdir);
	mkdir(cdir, 0700);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", cdir, files[i][0]);
		write_private(path, files[i][1]);
	}
	free(want);
	free(in);
	snprintf(path, sizeof(path), "%s/%s", a->dir, t->checker);
	snprintf(cmd, sizeof(cmd), "./%s input expected output", base);
	if (copy_into(path, cdir, err) < 0 || step_run(env, &io, &rep, err) < 0 ||
	    rep.status != SB_OK) {
		r->status = TS_INFRA_ERROR;
		appendf(&r->staff_output, "the checker failed: %s\n",
			err->msg[0] ? err->msg : rep.message);
		return;
	}
	verdict = read_text(o, 64 << 10);
	if (sscanf(verdict, "%lf %n", &score, &used) < 1 || score < 0 || score > 1) {
		r->status = TS_INFRA_ERROR;
		appendf(&r->staff_output, "the checker printed no score from 0 to 1: %.200s\n", verdict);
	} else {
		r->score = t->points * score;
		r->status = score >= 1 ? TS_PASSED : score > 0 ? TS_PARTIAL : TS_FAILED;
		appendf(&r->staff_output, "%s", verdict + used);
	}
	free(verdict);
}

static double case_points(const struct test *t, const struct fw_result *c, size_t total)
{
	if (!t->ncases)
		return total ? t->points / (double)total : 0;
	for (size_t i = 0; i < t->ncases; i++)
		if (!strcmp(t->cases[i].name, c->name) ||
		    (c->short_name && !strcmp(t->cases[i].name, c->short_name)))
			return t->cases[i].points;
	return 0;
}

static void judge_framework(const struct test *t, struct ran *x, struct test_result *r)
{
	struct fw_results res;
	struct lv_err err = { 0 };
	int rc;

	if (t->format == FW_TAP)
		rc = fw_parse_tap(x->out, &res, &err);
	else
		rc = fw_parse_junit(x->dir, t->results, &res, &err);
	r->status = TS_FAILED;
	if (rc < 0 || res.n == 0) {
		appendf(&r->staff_output, "no test results: %s\n", rc < 0 ? err.msg : "no cases reported");
		return;
	}
	for (size_t i = 0; i < res.n; i++) {
		double p = case_points(t, &res.r[i], res.n);

		r->score += res.r[i].passed ? p : 0;
		appendf(&r->staff_output, "%s %s (%g/%g)\n", res.r[i].passed ? "ok    " : "FAILED",
			res.r[i].name, res.r[i].passed ? p : 0, p);
	}
	if (r->score > t->points)
		r->score = t->points;
	r->status = r->score >= t->points - 1e-9 ? TS_PASSED : r->score > 0 ? TS_PARTIAL : TS_FAILED;
	fw_results_free(&res);
}

/* What the student sees: the details, unless the test is hidden. */
static void student_view(const struct test *t, struct test_result *r)
{
	char *details = r->staff_output ? strdup(r->staff_output) : NULL;

	if (t->vis == VIS_HIDDEN) {
		free(r->output);
		r->output = strdup("(hidden test: its input and output are not shown)\n");
	} else if (details) {
		appendf(&r->output, "%s", details);
	}
	free(details);
}

void test_run(const struct grade_env *env, const struct test *t, size_t index,
	      struct test_result *r)
{
	const struct assignment *a = env->a;
	struct ran x = { 0 };
	struct lv_err err = { 0 };

	memset(r, 0, sizeof(*r));
	r->max_score = t->points;
	if (run_program(env, t, index, &x, &err) < 0) {
		r->status = TS_INFRA_ERROR;
		appendf(&r->staff_output, "%s\n", err.msg);
	} else {
		r->seconds = x.rep.wall_sec;
		if (limit_status(&x.rep, &r->status))
			appendf(&r->staff_output, "%s\n", x.rep.message);
		else if (t->kind == TEST_IO)
			judge_io(a, t, &x, r);
		else if (t->kind == TEST_CHECKER)
			judge_checker(env, t, &x, r, &err);
		else
			judge_framework(t, &x, r);
	}
	if (r->status != TS_INFRA_ERROR)
		student_view(t, r);
	free(x.out);
	free(x.errs);
}
