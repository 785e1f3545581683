/*
 * An assignment: the parsed and validated assignment.yaml (docs/assignment-
 * format.md), or a Gradescope autograder folder (setup.sh + run_autograder).
 */
#ifndef LV_GRADE_SPEC_H
#define LV_GRADE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/err.h"

enum visibility { VIS_VISIBLE, VIS_HIDDEN, VIS_AFTER_DUE_DATE, VIS_AFTER_PUBLISHED };
enum test_kind { TEST_IO, TEST_CHECKER, TEST_FRAMEWORK };
enum cmp_mode { CMP_EXACT, CMP_TRAILING_WS, CMP_IGNORE_CASE, CMP_REGEX, CMP_NUMBERS };
enum fw_format { FW_TAP, FW_JUNIT };

struct limits {
	double time, wall;              /* seconds; 0: inherit */
	unsigned memory_mib, processes, output_kib;
};

/* Expected text: inline, or a file of the assignment. */
struct expected {
	char *text, *file;
	bool set;
};

struct fw_case {
	char *name;
	double points;
};

struct test {
	char *name, *group, *command;
	double points;
	enum visibility vis;
	enum test_kind kind;
	struct limits limits;           /* merged with the defaults */
	struct expected stdin_data, out, err;
	char **files;                   /* assignment files copied in for this test */
	bool exit_set;
	int exit_code;
	enum cmp_mode compare;
	double tolerance;
	char *checker;                  /* checker: program of the assignment */
	struct expected checker_data;   /* its expected data */
	enum fw_format format;          /* framework */
	char *results;                  /* JUnit file in the work directory */
	struct fw_case *cases;
	size_t ncases;
	int line;                       /* in assignment.yaml, for messages */
};

struct assignment {
	char *dir;                      /* absolute path of the folder */
	char *unpacked;                 /* scratch folder of an archived assignment, or NULL */
	char *title;
	double points;
	bool gradescope;                /* a Gradescope autograder folder */
	time_t deadline;                /* 0: none */
	double late_penalty_pct_per_day, late_cutoff_days;
	char **required, **optional;    /* file names / glob patterns */
	unsigned long max_submission_kib;
	char *root;                     /* a folder of the assignment, or NULL */
	bool image;                     /* the Debian 12 image (+ the setup layer) is the root */
	char *setup;                    /* environment.setup: builds the image's layer */
	char **env_files;               /* copied into the work directory before the build */
	char *build;
	struct limits limits, build_limits;
	struct test *tests;
	size_t ntests;
};

/*
 * Loads dir/assignment.yaml (or a Gradescope folder); dir may also be a .zip
 * or .tar.* of one.  Errors name file, line and field.
 */
int assignment_load(const char *dir, struct assignment *a, struct lv_err *err);
/* The same, an archive unpacked under scratch (assignment_load: /tmp). */
int assignment_load_in(const char *dir, const char *scratch, struct assignment *a,
		       struct lv_err *err);
void assignment_free(struct assignment *a);

const char *visibility_name(enum visibility v);

#endif
