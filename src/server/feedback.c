/*
 * What a grading result shows to whom.  The stored result is the engine's
 * results.json with staff fields; overrides apply on top.  A student sees
 * visible tests, after_due_date tests once the deadline passed and
 * after_published tests once grades are published — never a hidden test's
 * name, output or staff output — and the total only when it reveals nothing
 * more (all tests shown, or grades published).
 */
#include <math.h>
#include <string.h>

#include "feedback.h"

static bool student_sees(const char *vis, bool deadline_passed, bool published)
{
	if (!vis || strcmp(vis, "visible") == 0)
		return true;
	if (strcmp(vis, "after_due_date") == 0)
		return deadline_passed || published;
	if (strcmp(vis, "after_published") == 0)
		return published;
	return false;                   /* hidden */
}

/* Overrides replace a test's points; the total moves by the difference
 * (after the late penalty, as the engine's total is). */
static void apply_overrides(json_t *res, json_t *overrides)
{
	json_t *tests = json_object_get(res, "tests"), *t, *o;
	double pct = json_number_value(json_object_get(json_object_get(res, "labvisor"),
						       "late_penalty_pct"));
	double score = json_number_value(json_object_get(res, "score"));
	size_t i, k;

	json_array_foreach(overrides, k, o) {
		const char *name = json_string_value(json_object_get(o, "test"));

		json_array_foreach(tests, i, t) {
			const char *tn = json_string_value(json_object_get(t, "name"));
			double before = json_number_value(json_object_get(t, "score"));
			double after = json_number_value(json_object_get(o, "points"));

			if (!tn || !name || strcmp(tn, name) != 0)
				continue;
			score += (after - before) * (1 - pct / 100);
			json_object_set_new(t, "score", json_real(after));
			json_object_set(t, "override_comment", json_object_get(o, "comment"));
			json_object_set_new(t, "overridden", json_true());
		}
	}
	if (json_is_number(json_object_get(res, "score")))
		json_object_set_new(res, "score", json_real(round(score * 1000) / 1000));
}

json_t *feedback_view(const char *stored, json_t *overrides, bool staff, bool deadline_passed,
		      bool published)
{
	json_t *res = stored ? json_loads(stored, 0, NULL) : NULL, *tests, *shown, *t;
	bool all = true;
	size_t i;

	if (!res)
		return json_null();
	apply_overrides(res, overrides);
	if (staff)
		return res;
	json_object_del(json_object_get(res, "labvisor"), "staff");
	tests = json_object_get(res, "tests");
	shown = json_array();
	json_array_foreach(tests, i, t) {
		if (student_sees(json_string_value(json_object_get(t, "visibility")),
				 deadline_passed, published))
			json_array_append(shown, t);
		else
			all = false;
	}
	json_object_set_new(res, "tests", shown);
	if (!all && !published) {
		json_object_set_new(res, "score", json_null());
		json_object_set_new(res, "score_note",
				    json_string("Some tests are not shown yet; the total appears when "
						"grades are published."));
	}
	return res;
}
