/*
 * results.json in Gradescope's schema (score, execution_time, output,
 * stdout_visibility, tests[] with score, max_score, status, name, output,
 * visibility), plus Labvisor's fields: max_score; per test labvisor_status,
 * group, execution_time and staff_output (never for students); and a
 * "labvisor" object with the build, rejection, infrastructure and late facts.
 * A result with an infrastructure error has "score": null: it is not a grade.
 */
#include <jansson.h>
#include <stdlib.h>

#include "grade.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *test_json(const struct test_result *r)
{
	bool full = r->score >= r->max_score - 1e-9;

	return json_pack("{s:s, s:f, s:f, s:s, s:s, s:s, s:o, s:f, s:s}",
			 "name", r->name ? r->name : "", "score", r->score, "max_score", r->max_score,
			 "status", r->status == TS_PASSED || (r->status == TS_PARTIAL && full)
				 ? "passed" : "failed",
			 "labvisor_status", test_status_name(r->status),
			 "visibility", visibility_name(r->vis), "group", str_or_null(r->group),
			 "execution_time", r->seconds,
			 "output", r->output ? r->output : "");
}

static json_t *summary(const struct grade_result *res)
{
	return json_pack("{s:b, s:o, s:o, s:o, s:f, s:f}",
			 "build_failed", res->build_failed,
			 "build_output", str_or_null(res->build_output),
			 "rejected", str_or_null(res->rejected),
			 "infra_error", str_or_null(res->infra_error),
			 "late_days", res->late_days, "late_penalty_pct", res->late_penalty_pct);
}

static const char *overall_output(const struct grade_result *res)
{
	if (res->infra_error)
		return "Grading could not be completed because of a problem on our side; your "
		       "submission will be graded again.";
	if (res->rejected)
		return res->rejected;
	if (res->build_failed)
		return res->build_output ? res->build_output : "the build failed";
	return "";
}

char *grade_result_json(const struct assignment *a, const struct grade_result *res)
{
	json_t *tests = json_array(), *staff = json_array(), *j;
	char *s;

	for (size_t i = 0; i < res->ntests; i++) {
		json_array_append_new(tests, test_json(&res->tests[i]));
		json_array_append_new(staff, json_pack("{s:s, s:s}", "name",
			res->tests[i].name ? res->tests[i].name : "",
			"staff_output", res->tests[i].staff_output ? res->tests[i].staff_output : ""));
	}
	j = json_pack("{s:o, s:f, s:f, s:s, s:s, s:o, s:o, s:{s:s}}",
		      "score", res->infra_error ? json_null() : json_real(res->score),
		      "max_score", res->max_score, "execution_time", res->seconds,
		      "output", overall_output(res), "stdout_visibility", "hidden",
		      "tests", tests, "labvisor", summary(res), "assignment", "title", a->title);
	json_object_set_new(json_object_get(j, "labvisor"), "staff", staff);
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	return s;
}
