/* Running one step (the build) or one test of a submission in a fresh sandbox. */
#ifndef LV_GRADE_TESTRUN_H
#define LV_GRADE_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"
#include "sandbox/sandbox.h"

/* What every step of one grading run shares. */
struct grade_env {
	const struct assignment *a;
	const struct grade_request *req;
	const char *work;               /* the scratch folder */
	const char *build_dir;          /* the built files every test starts from */
	const char *image_lower;        /* overlay layers of an image root, or NULL */
	struct sb_session *session;     /* the worker's sandbox session, or NULL */
	bool unsandboxed;               /* benchmarks only: see grade_request */
};

/* The sandbox every step of this assignment starts from (root, no binds). */
struct sandbox_config grade_base_config(const struct assignment *a, char *root, size_t len);

struct step_io {
	const char *dir;                /* work directory inside the sandbox */
	const char *command;            /* run with /bin/sh -c */
	const struct limits *limits;
	const char *stdin_path;         /* NULL: /dev/null */
	const char *stdout_path, *stderr_path;
};

/* A progress line through req->progress, when there is one. */
void grade_say(const struct grade_request *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs one command of the assignment; -1 with err on a sandbox failure. */
int step_run(const struct grade_env *env, const struct step_io *io, struct sandbox_report *rep,
	     struct lv_err *err);

/* Reads a whole file of at most max bytes (more is cut); "" when missing. */
char *read_text(const char *path, size_t max);

/* Runs test t (number index) against the built files. */
void test_run(const struct grade_env *env, const struct test *t, size_t index,
	      struct test_result *r);

#endif
