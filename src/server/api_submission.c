/* Submissions: upload, status and feedback, files, logs, overrides, regrades. */
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "routes.h"
#include "scores.h"
#include "upload.h"


/* The assignment's deadline has passed / its grades are published. */
static void assignment_facts(struct req *r, bool *deadline_passed, bool *published)
{
	struct db_val v[] = { DB_INT(r->assignment_id) };
	json_t *a = query_one(r, "SELECT deadline_ms, grades_published FROM assignments WHERE id = ?",
			      v, 1, "i:deadline_ms b:grades_published");
	json_int_t deadline = json_integer_value(json_object_get(a, "deadline_ms"));

	*deadline_passed = deadline > 0 && store_now_ms() > deadline;
	*published = json_is_true(json_object_get(a, "grades_published"));
	json_decref(a);
}

void api_submission_create(struct req *r)
{
	struct upload up;
	struct lv_err err;
	struct db_rows rows;
	int64_t id, now = store_now_ms();

	if (upload_pack(r->parts, r->nparts, &up, &err) < 0)
		return reply_error(r, 400, "%s", err.msg);
	struct db_val v[] = { DB_INT(r->assignment_id), DB_INT(r->user_id), DB_INT(now),
			      DB_BLOB(up.data, up.len), DB_TEXT(up.name), DB_INT(up.len), DB_INT(now) };
	/* The files and the job in one transaction: once answered, nothing is lost. */
	if (db_begin(r->db, &err) < 0 ||
	    db_query(r->db, "INSERT INTO submissions (assignment_id, user_id, created_ms, archive, "
		     "archive_name, size, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
		     v, 7, &rows, &err) < 0) {
		db_rollback(r->db);
		free(up.data);
		return reply_error(r, 500, "could not store the submission");
	}
	free(up.data);
	id = db_cell_int(&rows, 0, 0);
	db_rows_free(&rows);
	if (queue_push(r->db, JOB_GRADE, id, r->assignment_id, r->user_id, &err) < 0 ||
	    db_commit(r->db, &err) < 0) {
		db_rollback(r->db);
		return reply_error(r, 500, "could not queue the submission");
	}
	reply_json(r, 201, json_pack("{s:I, s:s, s:I}", "id", (json_int_t)id, "status", "queued",
				     "queue_position", (json_int_t)queue_position(r->db, id, &err)));
}

void api_submissions_list(struct req *r)
{
	struct db_val mine[] = { DB_INT(r->assignment_id), DB_INT(r->user_id) };
	struct db_val all[] = { DB_INT(r->assignment_id) };
	bool staff = r->role >= ROLE_TA;
	json_t *rows = staff
		? query_json(r, "SELECT s.id, s.user_id, u.name, s.created_ms, s.status, s.score, "
			     "s.max_score, s.late_days FROM submissions s JOIN users u ON "
			     "u.id = s.user_id WHERE s.assignment_id = ? ORDER BY s.id DESC", all, 1,
			     "i:id i:user_id s:name i:created_ms s:status r:score r:max_score "
			     "r:late_days")
		: query_json(r, "SELECT id, created_ms, status, late_days FROM submissions WHERE "
			     "assignment_id = ? AND user_id = ? ORDER BY id DESC", mine, 2,
			     "i:id i:created_ms s:status r:late_days");

	if (!rows)
		return reply_error(r, 500, "could not list the submissions");
	reply_json(r, 200, rows);
}

void api_submission_get(struct req *r)
{
	struct db_val v[] = { DB_INT(r->submission_id) };
	bool staff = r->role >= ROLE_TA, passed, published;
	struct lv_err err;
	json_t *s = query_one(r, "SELECT id, assignment_id, user_id, created_ms, status, late_days, "
			      "archive_name, size, graded_ms, result FROM submissions WHERE id = ?",
			      v, 1, "i:id i:assignment_id i:user_id i:created_ms s:status "
			      "r:late_days s:archive_name i:size i:graded_ms s:result");
	json_t *ov;

	if (!s)
		return reply_error(r, 404, "not found");
	assignment_facts(r, &passed, &published);
	ov = overrides_json(r->db, r->submission_id);
	json_object_set_new(s, "feedback", feedback_view(json_string_value(json_object_get(s,
			    "result")), ov, staff, passed, published));
	json_object_del(s, "result");
	json_object_set_new(s, "queue_position",
			    json_integer(queue_position(r->db, r->submission_id, &err)));
	if (staff)
		json_object_set_new(s, "overrides", ov);
	else
		json_decref(ov);
	reply_json(r, 200, s);
}

void api_submission_files(struct req *r)
{
	struct db_val v[] = { DB_INT(r->submission_id) };
	struct db_rows rows;
	struct lv_err err;

	if (db_query(r->db, "SELECT archive FROM submissions WHERE id = ?", v, 1, &rows, &err) < 0 ||
	    !rows.nrows) {
		db_rows_free(&rows);
		return reply_error(r, 404, "not found");
	}
	reply_json(r, 200, upload_list(rows.cell[0], rows.len[0], true));
	db_rows_free(&rows);
}

void api_submission_log(struct req *r)
{
	struct db_val v[] = { DB_INT(r->submission_id) };
	json_t *s = query_one(r, "SELECT result, pending_result FROM submissions WHERE id = ?", v, 1,
			      "j:result j:pending_result");

	if (!s)
		return reply_error(r, 404, "not found");
	reply_json(r, 200, s);
}

/* The test's max_score in the stored result, or -1 when there is no such test. */
static double test_max(struct req *r, const char *test)
{
	struct db_val v[] = { DB_INT(r->submission_id) };
	json_t *s = query_one(r, "SELECT result FROM submissions WHERE id = ?", v, 1, "j:result");
	json_t *t;
	double max = -1;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(s, "result"), "tests"), i, t)
		if (test && strcmp(json_string_value(json_object_get(t, "name")), test) == 0)
			max = json_number_value(json_object_get(t, "max_score"));
	json_decref(s);
	return max;
}

void api_override(struct req *r)
{
	json_t *body = req_json(r);
	const char *test, *comment;
	double points, max;
	struct lv_err err;

	if (!body)
		return;
	test = json_string_value(json_object_get(body, "test"));
	comment = json_string_value(json_object_get(body, "comment"));
	points = json_number_value(json_object_get(body, "points"));
	max = test_max(r, test);
	if (max < 0 || !json_is_number(json_object_get(body, "points")) || !comment || !*comment) {
		json_decref(body);
		return reply_error(r, 400, "give test (a test of this submission's result), points "
				   "and a comment");
	}
	if (points < 0 || points > max) {
		json_decref(body);
		return reply_error(r, 400, "points must be between 0 and %g", max);
	}
	struct db_val v[] = { DB_INT(r->submission_id), DB_TEXT(test), DB_REAL(points),
			      DB_TEXT(comment), DB_INT(r->user_id), DB_INT(store_now_ms()),
			      DB_REAL(points), DB_TEXT(comment), DB_INT(r->user_id) };
	if (db_begin(r->db, &err) < 0 ||
	    db_query(r->db, "INSERT INTO overrides (submission_id, test_name, points, comment, by_user, "
		     "at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (submission_id, test_name) DO "
		     "UPDATE SET points = ?, comment = ?, by_user = ?", v, 9, NULL, &err) < 0 ||
	    scores_refresh(r->db, r->submission_id, &err) < 0 || db_commit(r->db, &err) < 0) {
		db_rollback(r->db);
		json_decref(body);
		return reply_error(r, 500, "could not store the override");
	}
	json_decref(body);
	api_submission_get(r);
}

void api_regrade_one(struct req *r)
{
	struct lv_err err;

	if (queue_push(r->db, JOB_REGRADE, r->submission_id, r->assignment_id, r->owner_id, &err) < 0)
		return reply_error(r, 500, "could not queue the regrade");
	reply_json(r, 202, json_pack("{s:I, s:s}", "submission_id", (json_int_t)r->submission_id,
				     "status", "regrade queued"));
}
