/* Per-case results of a test framework: TAP on standard output, or JUnit XML. */
#ifndef LV_GRADE_FRAMEWORK_H
#define LV_GRADE_FRAMEWORK_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct fw_result {
	char *name;             /* TAP description, or JUnit "classname.name" */
	char *short_name;       /* JUnit "name" alone (NULL for TAP) */
	bool passed;
};

struct fw_results {
	struct fw_result *r;
	size_t n;
};

/* "ok N - name" / "not ok N - name" lines; anything else is ignored. */
int fw_parse_tap(const char *text, struct fw_results *out, struct lv_err *err);

/* <testcase> elements of the file rel in dir (opened without following
 * links); a <failure>, <error> or <skipped> child means not passed. */
int fw_parse_junit(const char *dir, const char *rel, struct fw_results *out, struct lv_err *err);

void fw_results_free(struct fw_results *r);

#endif
