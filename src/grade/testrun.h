/* Running one step (the build) or one test of a submission in a fresh sandbox. */
#ifndef LV_GRADE_TESTRUN_H
#define LV_GRADE_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "grade.h"
#include "sandbox/sandbox.h"

struct step_io {
	const char *dir;                /* work directory inside the sandbox */
	const char *command;            /* run with /bin/sh -c */
	const struct limits *limits;
	const char *stdin_path;         /* NULL: /dev/null */
	const char *stdout_path, *stderr_path;
	bool unsandboxed;               /* benchmarks only: see grade_request */
};

/* Runs one command of the assignment; -1 with err on a sandbox failure. */
int step_run(const struct assignment *a, const struct step_io *io, struct sandbox_report *rep,
	     struct lv_err *err);

/* Reads a whole file of at most max bytes (more is cut); "" when missing. */
char *read_text(const char *path, size_t max);

/* Runs test t of the assignment against the built files in build_dir. */
void test_run(const struct assignment *a, const struct test *t, size_t index,
	      const char *work, const char *build_dir, bool unsandboxed, struct test_result *r);

#endif
