#ifndef LV_SERVER_FEEDBACK_H
#define LV_SERVER_FEEDBACK_H

#include <jansson.h>
#include <stdbool.h>

/*
 * The stored result (results.json text) with overrides ([{test, points,
 * comment}]) applied, as staff see it, or filtered for the student (see
 * feedback.c).  A new reference; json null when there is no result yet.
 */
json_t *feedback_view(const char *stored, json_t *overrides, bool staff, bool deadline_passed,
		      bool published);

#endif
