/*
 * Gradescope autograders, unchanged: a folder with setup.sh and
 * run_autograder.  The contract followed (docs/assignment-format.md):
 * the autograder's files at /autograder/source; setup.sh run once from
 * there as root, with the network, on a Debian 12 base image (its result
 * cached as a layer); for every submission a fresh writable copy of that
 * image with the submission at /autograder/submission,
 * /autograder/submission_metadata.json, and /autograder/run_autograder run
 * as root; /autograder/results/results.json read back.
 */
#ifndef LV_GRADE_GRADESCOPE_H
#define LV_GRADE_GRADESCOPE_H

#include "grade.h"

/* Called by grade_run once the submission is in `sub` (a folder of `work`). */
void gradescope_grade(const struct assignment *a, const struct grade_request *req,
		      const char *work, const char *sub, struct grade_result *res);

#endif
