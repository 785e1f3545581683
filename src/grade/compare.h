/* Comparing a program's output with the expected text, and showing how they differ. */
#ifndef LV_GRADE_COMPARE_H
#define LV_GRADE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

/*
 * exact: byte for byte.  trailing_whitespace: equal once spaces, tabs and
 * carriage returns at line ends and empty lines at the end are dropped.
 * ignore_case: trailing_whitespace, case-insensitively.  regex: the whole
 * output matches the POSIX extended regular expression `expected`.
 * numbers: the same whitespace-separated tokens, numbers equal within
 * `tolerance` (absolute or relative), other tokens exactly.
 * Returns 1 on a match, 0 on a mismatch, -1 when `expected` is not a valid
 * regular expression.
 */
int output_matches(const char *expected, const char *actual, enum cmp_mode mode, double tolerance);

/*
 * A unified-style line diff (at most max_lines lines of it), "-" for
 * expected and "+" for actual.  Returns a string to free().
 */
char *output_diff(const char *expected, const char *actual, size_t max_lines);

#endif
