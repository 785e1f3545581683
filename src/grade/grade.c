/*
 * grade_run: bring the submission in, check its files, build it once, then
 * run every test in a fresh copy of the build, --jobs at a time (each in a
 * process of its own, which runs its sandboxes), and total the scores.
 */
#include "grade.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "gradescope.h"
#include "image.h"
#include "sandbox/sandbox.h"
#include "testrun.h"
#include "util/fs.h"

#define SUBMISSION_MAX_FILES 1000

const char *test_status_name(enum test_status s)
{
	static const char *const names[] = {
		[TS_PASSED] = "passed", [TS_PARTIAL] = "partial", [TS_FAILED] = "failed",
		[TS_TIME_LIMIT] = "time_limit", [TS_MEMORY_LIMIT] = "memory_limit",
		[TS_OUTPUT_LIMIT] = "output_limit", [TS_CRASHED] = "crashed",
		[TS_BUILD_FAILED] = "build_failed", [TS_REJECTED] = "rejected",
		[TS_INFRA_ERROR] = "infra_error",
	};
	return names[s];
}

void grade_say(const struct grade_request *req, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!req->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	req->progress(req->progress_ctx, line);
}

/* Every test gets the same status, no points, and one message. */
static void settle_all(const struct assignment *a, struct grade_result *res,
		       enum test_status st, const char *msg)
{
	for (size_t i = 0; i < a->ntests; i++) {
		res->tests[i].status = st;
		res->tests[i].score = 0;
		res->tests[i].output = strdup(msg);
	}
}

/* A required file: a name, or a pattern matched against the top-level entries. */
static bool present(const char *dir, const char *pattern)
{
	char path[PATH_MAX * 2];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (!strpbrk(pattern, "*?[")) {
		snprintf(path, sizeof(path), "%s/%s", dir, pattern);
		return access(path, F_OK) == 0;
	}
	d = opendir(dir);
	while (d && !found && (e = readdir(d)))
		found = fnmatch(pattern, e->d_name, 0) == 0;
	if (d)
		closedir(d);
	return found;
}

static int import_submission(const struct assignment *a, const struct grade_request *req,
			     const char *sub, struct grade_result *res)
{
	struct unpack_caps caps = {
		.max_bytes = (uint64_t)a->max_submission_kib << 10,
		.max_files = SUBMISSION_MAX_FILES,
	};
	struct lv_err err = { 0 };

	if (submission_import(req->submission, sub, &caps, &err) < 0) {
		res->rejected = strdup(err.msg);
		return -1;
	}
	for (size_t i = 0; a->required && a->required[i]; i++) {
		if (!present(sub, a->required[i])) {
			if (asprintf(&res->rejected, "the submission has no %s (required)",
				     a->required[i]) < 0)
				res->rejected = NULL;
			return -1;
		}
	}
	return 0;
}

/* build/ = the submission + the assignment's files; then the build command. */
static int build(const struct grade_env *env, const char *sub, struct grade_result *res)
{
	const struct assignment *a = env->a;
	const char *bdir = env->build_dir, *work = env->work;
	char path[PATH_MAX * 2], log[PATH_MAX + 16];
	struct step_io io = { .dir = bdir, .command = a->build, .limits = &a->build_limits,
			      .stdout_path = log, .stderr_path = log };
	struct sandbox_report rep;
	struct lv_err err = { 0 };
	struct dirent *e;
	DIR *d = opendir(sub);

	if (mkdir(bdir, 0700) < 0 || !d) {
		if (d)
			closedir(d);
		res->infra_error = strdup("cannot create the build folder");
		return -1;
	}
	while ((e = readdir(d)) && !err.msg[0]) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", sub, e->d_name);
			copy_into(path, bdir, &err);
		}
	}
	closedir(d);
	for (size_t i = 0; !err.msg[0] && a->env_files && a->env_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", a->dir, a->env_files[i]);
		copy_into(path, bdir, &err);
	}
	if (err.msg[0]) {
		res->infra_error = strdup(err.msg);
		return -1;
	}
	if (!a->build)
		return 0;
	grade_say(env->req, "building");
	snprintf(log, sizeof(log), "%s/build.log", work);
	if (step_run(env, &io, &rep, &err) < 0 || rep.status == SB_SANDBOX_ERROR) {
		if (asprintf(&res->infra_error, "build: %s", err.msg[0] ? err.msg : rep.message) < 0)
			res->infra_error = NULL;
		return -1;
	}
	res->build_output = read_text(log, 256 << 10);
	if (rep.status != SB_OK) {
		res->build_failed = true;
		return -1;
	}
	return 0;
}

/* ---- tests, each in a child process; results come back as JSON files ---- */

static void save_result(const char *file, const struct test_result *r)
{
	json_t *j = json_pack("{s:f, s:i, s:f, s:s, s:s}", "score", r->score, "status", (int)r->status,
			      "seconds", r->seconds, "output", r->output ? r->output : "",
			      "staff_output", r->staff_output ? r->staff_output : "");

	json_dump_file(j, file, 0);
	json_decref(j);
}

static void load_result(const char *file, struct test_result *r)
{
	json_t *j = json_load_file(file, 0, NULL);
	const char *out = "", *staff = "";
	int status = TS_INFRA_ERROR;

	if (!j || json_unpack(j, "{s:F, s:i, s:F, s:s, s:s}", "score", &r->score, "status", &status,
			      "seconds", &r->seconds, "output", &out, "staff_output", &staff) < 0) {
		r->status = TS_INFRA_ERROR;
		r->staff_output = strdup("the test's process ended without a result");
	} else {
		r->status = (enum test_status)status;
		r->output = out[0] ? strdup(out) : NULL;
		r->staff_output = staff[0] ? strdup(staff) : NULL;
	}
	json_decref(j);
}

static void finish_test(const struct assignment *a, const struct grade_request *req, size_t i,
			const char *work, struct grade_result *res, size_t *done)
{
	char file[PATH_MAX + 64];
	struct test_result *r = &res->tests[i];

	snprintf(file, sizeof(file), "%s/result-%zu.json", work, i + 1);
	load_result(file, r);
	r->max_score = a->tests[i].points;
	grade_say(req, "[%zu/%zu] %s: %s %g/%g (%.2f s)", ++*done, a->ntests, a->tests[i].name,
		  test_status_name(r->status), r->score, r->max_score, r->seconds);
}

static volatile sig_atomic_t worker_stopping;

static void worker_on_term(int sig)
{
	(void)sig;
	worker_stopping = 1;
}

/*
 * A worker process: one sandbox session (most of a sandbox's cost, paid
 * once), then tests taken from `todo` one at a time until it is empty;
 * each index goes back on `done` once its result file is written.
 */
__attribute__((noreturn)) static void worker(const struct grade_env *env, int todo, int done)
{
	struct sigaction sa = { .sa_handler = worker_on_term };
	struct grade_env e = *env;
	char root[PATH_MAX * 2];
	struct sandbox_config base = grade_base_config(env->a, root, sizeof(root));
	struct lv_err err;
	uint32_t i;

	sigaction(SIGTERM, &sa, NULL);
	e.session = NULL;               /* the parent's stays the parent's */
	if (!e.unsandboxed && !e.image_lower && sandbox_session_open(&base, &e.session, &err) < 0)
		e.session = NULL;       /* each test then makes a sandbox of its own */
	while (!worker_stopping && read(todo, &i, sizeof(i)) == (ssize_t)sizeof(i)) {
		struct test_result r;
		char file[PATH_MAX + 64];

		test_run(&e, &e.a->tests[i], i, &r);
		snprintf(file, sizeof(file), "%s/result-%u.json", e.work, i + 1);
		save_result(file, &r);
		if (write(done, &i, sizeof(i)) != (ssize_t)sizeof(i))
			break;
	}
	sandbox_session_close(e.session);
	_exit(0);
}

static bool cancelled(const struct grade_request *req)
{
	return req->cancel && *req->cancel;
}

/* A cancel: take the tests nobody started, and interrupt the running ones. */
static void stop_workers(int todo, const pid_t *pids, unsigned n)
{
	uint32_t i;

	fcntl(todo, F_SETFL, O_NONBLOCK);
	while (read(todo, &i, sizeof(i)) == (ssize_t)sizeof(i))
		;
	for (unsigned w = 0; w < n; w++)
		if (pids[w] > 0)
			kill(pids[w], SIGTERM);
}

/*
 * --jobs workers share the list of tests (a pipe of indices); progress is
 * printed as results come back.  Tests without a result (a cancel, a worker
 * that died) are infrastructure errors.
 */
/* One job: the tests one after another in this process, in its session. */
static void run_tests_here(const struct grade_env *env, const struct grade_request *req,
			   struct grade_result *res)
{
	const struct assignment *a = env->a;
	size_t done = 0;

	for (size_t i = 0; i < a->ntests; i++) {
		struct test_result r;
		char file[PATH_MAX + 64];

		if (cancelled(req)) {
			finish_test(a, req, i, env->work, res, &done);  /* never ran */
			continue;
		}
		test_run(env, &a->tests[i], i, &r);
		snprintf(file, sizeof(file), "%s/result-%zu.json", env->work, i + 1);
		save_result(file, &r);
		free(r.output);
		free(r.staff_output);
		finish_test(a, req, i, env->work, res, &done);
	}
}

static void run_tests(const struct grade_env *env, const struct grade_request *req,
		      struct grade_result *res)
{
	const struct assignment *a = env->a;
	unsigned nw = req->jobs ? req->jobs : 1;

	if (nw == 1 || a->ntests == 1) {
		run_tests_here(env, req, res);
		return;
	}
	int todo[2], donep[2];
	size_t done = 0;
	bool *finished = calloc(a->ntests, sizeof(*finished));
	pid_t pids[64] = { 0 };
	bool stopped = false;
	uint32_t i;

	if (nw > a->ntests)
		nw = (unsigned)a->ntests;
	if (nw > 64)
		nw = 64;
	if (!finished || pipe2(todo, O_CLOEXEC) < 0 || pipe2(donep, O_CLOEXEC) < 0) {
		free(finished);
		return;
	}
	for (i = 0; i < a->ntests; i++)         /* small: fits in the pipe */
		if (write(todo[1], &i, sizeof(i)) != (ssize_t)sizeof(i))
			break;
	close(todo[1]);
	for (unsigned w = 0; w < nw; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			close(donep[0]);
			worker(env, todo[0], donep[1]);
		}
	}
	close(donep[1]);
	for (;;) {
		ssize_t n = read(donep[0], &i, sizeof(i));

		if (n < 0 && errno == EINTR) {
			if (cancelled(req) && !stopped) {
				stop_workers(todo[0], pids, nw);
				stopped = true;
			}
			continue;
		}
		if (n != (ssize_t)sizeof(i))
			break;          /* every worker is gone */
		if (i < a->ntests && !finished[i]) {
			finished[i] = true;
			finish_test(a, req, i, env->work, res, &done);
		}
	}
	for (unsigned w = 0; w < nw; w++)
		if (pids[w] > 0)
			waitpid(pids[w], NULL, 0);
	for (i = 0; i < a->ntests; i++)
		if (!finished[i])
			finish_test(a, req, i, env->work, res, &done);
	close(todo[0]);
	close(donep[0]);
	free(finished);
}

/* An assignment on the Debian image: the base, and its setup script's layer. */
static int prepare_image(const struct assignment *a, const struct grade_request *req,
			 struct grade_env *env, char lower[2 * PATH_MAX + 2],
			 struct grade_result *res)
{
	char rootfs[PATH_MAX], layer[PATH_MAX];
	struct lv_err err = { 0 };

	if (!a->image)
		return 0;
	if (image_base(req, rootfs, &err) < 0 ||
	    (a->setup && image_layer(req, a->dir, rootfs, a->setup, false, layer, &err) < 0)) {
		res->infra_error = strdup(err.msg);
		return -1;
	}
	if (a->setup)
		snprintf(lower, 2 * PATH_MAX + 2, "%s:%s", layer, rootfs);
	else
		snprintf(lower, 2 * PATH_MAX + 2, "%s", rootfs);
	env->image_lower = lower;
	return 0;
}

int grade_prepare(const struct assignment *a, const struct grade_request *req, struct lv_err *err)
{
	char rootfs[PATH_MAX], layer[PATH_MAX];

	if (!a->gradescope && !a->image)
		return 0;
	if (image_base(req, rootfs, err) < 0)
		return -1;
	if (a->gradescope)
		return image_layer(req, a->dir, rootfs, "setup.sh", true, layer, err);
	return a->setup ? image_layer(req, a->dir, rootfs, a->setup, false, layer, err) : 0;
}

/* Days late, rounded up, and the penalty they cost. */
static void apply_late_policy(const struct assignment *a, const struct grade_request *req,
			      struct grade_result *res)
{
	double days;

	if (!a->deadline || !req->submitted_at || req->submitted_at <= a->deadline)
		return;
	days = ceil(difftime(req->submitted_at, a->deadline) / 86400.0);
	res->late_days = days;
	if (a->late_cutoff_days > 0 && days > a->late_cutoff_days)
		res->late_penalty_pct = 100;
	else
		res->late_penalty_pct = fmin(100, days * a->late_penalty_pct_per_day);
	res->score *= 1 - res->late_penalty_pct / 100;
}

/* This process's sandbox session: the build and (with one job) the tests run
 * in it; without one, every step makes a sandbox of its own. */
static void open_session(struct grade_env *env)
{
	char root[PATH_MAX * 2];
	struct sandbox_config base = grade_base_config(env->a, root, sizeof(root));
	struct lv_err err;

	if (!env->unsandboxed && !env->image_lower &&
	    sandbox_session_open(&base, &env->session, &err) < 0)
		env->session = NULL;
}

/* The build, then the tests, in this process's sandbox session when it has one. */
static void build_and_test(struct grade_env *env, const char *sub, struct grade_result *res)
{
	open_session(env);
	if (build(env, sub, res) == 0)
		run_tests(env, env->req, res);
	else if (res->build_failed)
		settle_all(env->a, res, TS_BUILD_FAILED, "the build failed: see its output");
	else
		settle_all(env->a, res, TS_INFRA_ERROR, "");
}

int grade_run(const struct assignment *a, const struct grade_request *req,
	      struct grade_result *res, struct lv_err *err)
{
	char work[PATH_MAX], sub[PATH_MAX + 16], bdir[PATH_MAX + 16], lower[2 * PATH_MAX + 2];
	struct grade_env env = { .a = a, .req = req, .work = work, .build_dir = bdir,
				 .unsandboxed = req->unsandboxed };
	double t0 = lv_seconds();

	memset(res, 0, sizeof(*res));
	res->ntests = a->ntests;
	res->max_score = a->points;
	res->tests = calloc(a->ntests, sizeof(*res->tests));
	snprintf(work, sizeof(work), "%s/labvisor-grade-XXXXXX", req->work_root ? req->work_root : "/tmp");
	/* 0711: the box users may pass through to their own folders, nobody may
	 * list the scratch folder; what holds test data is 0700 or 0600. */
	if (!res->tests || !mkdtemp(work) || chmod(work, 0711) < 0)
		return lv_err_sys(err, errno, "scratch folder %s", work);
	for (size_t i = 0; i < a->ntests; i++) {
		res->tests[i].max_score = a->tests[i].points;
		res->tests[i].name = strdup(a->tests[i].name);
		res->tests[i].group = a->tests[i].group ? strdup(a->tests[i].group) : NULL;
		res->tests[i].vis = a->tests[i].vis;
	}
	snprintf(sub, sizeof(sub), "%s/submission", work);
	snprintf(bdir, sizeof(bdir), "%s/build", work);
	if (a->gradescope)
		grade_say(req, "grading %s (a Gradescope autograder)", a->title);
	else
		grade_say(req, "grading %s: %zu tests", a->title, a->ntests);
	if (a->gradescope) {
		if (mkdir(sub, 0700) == 0 && import_submission(a, req, sub, res) == 0)
			gradescope_grade(a, req, work, sub, res);
	} else if (mkdir(sub, 0700) < 0 || import_submission(a, req, sub, res) < 0) {
		settle_all(a, res, TS_REJECTED, res->rejected ? res->rejected : "rejected");
	} else if (prepare_image(a, req, &env, lower, res) < 0) {
		settle_all(a, res, TS_INFRA_ERROR, "");
	} else {
		build_and_test(&env, sub, res);
	}
	sandbox_session_close(env.session);
	for (size_t i = 0; i < a->ntests; i++) {
		res->score += res->tests[i].score;
		if (res->tests[i].status == TS_INFRA_ERROR && !res->infra_error)
			res->infra_error = strdup(res->tests[i].staff_output ? res->tests[i].staff_output
							: "a test could not be run");
	}
	if (req->cancel && *req->cancel && !res->infra_error)
		res->infra_error = strdup("grading was interrupted");
	apply_late_policy(a, req, res);
	res->seconds = lv_seconds() - t0;
	if (req->keep)
		grade_say(req, "scratch folder kept: %s", work);
	else
		remove_tree(work);
	return 0;
}

void grade_result_free(struct grade_result *res)
{
	for (size_t i = 0; res->tests && i < res->ntests; i++) {
		free(res->tests[i].name);
		free(res->tests[i].group);
		free(res->tests[i].output);
		free(res->tests[i].staff_output);
	}
	free(res->tests);
	free(res->build_output);
	free(res->rejected);
	free(res->infra_error);
	memset(res, 0, sizeof(*res));
}
