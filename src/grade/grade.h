/*
 * libgrade: grading one submission of one assignment — the one public header
 * of the grading engine.  It builds and tests the submission in fresh
 * sandboxes (src/sandbox/) and returns a scored, explained result that
 * serialises to Gradescope's results.json schema with Labvisor's extra fields.
 */
#ifndef LV_GRADE_H
#define LV_GRADE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "grade/spec.h"
#include "util/err.h"

enum test_status {
	TS_PASSED, TS_PARTIAL, TS_FAILED, TS_TIME_LIMIT, TS_MEMORY_LIMIT, TS_OUTPUT_LIMIT,
	TS_CRASHED, TS_BUILD_FAILED, TS_REJECTED, TS_INFRA_ERROR,
};

const char *test_status_name(enum test_status s);

struct test_result {
	char *name, *group;     /* the test's, or from a Gradescope results.json */
	enum visibility vis;
	double score, max_score;
	enum test_status status;
	double seconds;
	char *output;           /* for the student, within the test's visibility */
	char *staff_output;     /* for TAs and instructors only: inputs, diffs of hidden tests */
};

struct grade_result {
	double score, max_score;
	double seconds;
	bool build_failed;
	char *build_output;     /* the compiler's output, shown to the student */
	char *rejected;         /* why the submission itself was refused, or NULL */
	char *infra_error;      /* our failure, never the student's zero; or NULL */
	double late_days, late_penalty_pct;
	size_t ntests;
	struct test_result *tests;
};

struct grade_request {
	const char *submission;         /* folder, file or archive */
	unsigned jobs;                  /* tests run in parallel */
	const char *work_root;          /* where scratch folders go (default /tmp) */
	bool keep;                      /* keep the scratch folder (prints its path) */
	time_t submitted_at;            /* 0: no late policy applied */
	/*
	 * Benchmarks only (bench/bench_grade.c): run every step with a plain
	 * fork and exec, no sandbox, to measure what the sandbox costs.  Never
	 * for submissions: the command line has no way to set it.
	 */
	bool unsandboxed;
	/* When set (by a signal handler), grading stops: running tests are ended
	 * (their sandboxes removed) and the result is an infrastructure error. */
	volatile sig_atomic_t *cancel;
	/* Progress lines ("[3/10] name: passed"), or NULL for silence. */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
};

/*
 * Grades. Returns -1 with err only when grading could not start at all (an
 * unusable work_root); everything else — a rejected submission, a failed
 * build, a sandbox failure — is reported in res.
 */
int grade_run(const struct assignment *a, const struct grade_request *req,
	      struct grade_result *res, struct lv_err *err);
void grade_result_free(struct grade_result *res);

/*
 * Builds what grading a's submissions needs ahead of the first one: the
 * Debian image and the assignment's setup layer (cached; nothing to do for
 * an assignment on the host's files).  Progress goes to req->progress.
 */
int grade_prepare(const struct assignment *a, const struct grade_request *req, struct lv_err *err);

/* results.json: Gradescope's fields plus Labvisor's (see docs/assignment-format.md). */
char *grade_result_json(const struct assignment *a, const struct grade_result *res);

#endif
