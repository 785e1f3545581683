#include "scores.h"

#include "feedback.h"
#include "server.h"

json_t *overrides_json(struct db *db, int64_t submission_id)
{
	struct db_val v[] = { DB_INT(submission_id) };
	struct db_rows rows;
	struct lv_err err;
	json_t *j;

	if (db_query(db, "SELECT test_name, points, comment FROM overrides WHERE submission_id = ? "
		     "ORDER BY test_name", v, 1, &rows, &err) < 0)
		return json_array();
	j = rows_json(&rows, "s:test r:points s:comment");
	db_rows_free(&rows);
	return j;
}

int scores_refresh(struct db *db, int64_t submission_id, struct lv_err *err)
{
	struct db_val v[] = { DB_INT(submission_id) };
	struct db_rows rows;
	json_t *ov, *view, *score;
	int rc;

	if (db_query(db, "SELECT result FROM submissions WHERE id = ?", v, 1, &rows, err) < 0)
		return -1;
	ov = overrides_json(db, submission_id);
	view = feedback_view(db_cell(&rows, 0, 0), ov, true, true, true);
	db_rows_free(&rows);
	score = json_object_get(view, "score");
	struct db_val u[] = { json_is_number(score) ? DB_REAL(json_number_value(score)) : DB_NULL,
			      DB_INT(submission_id) };
	rc = db_query(db, "UPDATE submissions SET score = ? WHERE id = ?", u, 2, NULL, err);
	json_decref(ov);
	json_decref(view);
	return rc;
}

int scores_apply_pending(struct db *db, int64_t assignment_id, int64_t submission_id,
			 struct lv_err *err)
{
	struct db_val v[] = { DB_INT(assignment_id), DB_INT(submission_id), DB_INT(submission_id) };
	struct db_rows rows;
	int n = 0;

	if (db_begin(db, err) < 0)
		return -1;
	if (db_query(db, "UPDATE submissions SET result = pending_result, pending_result = NULL, "
		     "pending_score = NULL, status = 'graded' WHERE assignment_id = ? AND "
		     "pending_result IS NOT NULL AND (? = 0 OR id = ?) RETURNING id", v, 3, &rows,
		     err) < 0) {
		db_rollback(db);
		return -1;
	}
	for (size_t i = 0; i < rows.nrows; i++) {
		if (scores_refresh(db, db_cell_int(&rows, i, 0), err) < 0) {
			n = -1;
			break;
		}
		n++;
	}
	db_rows_free(&rows);
	if (n < 0 || db_commit(db, err) < 0) {
		db_rollback(db);
		return -1;
	}
	return n;
}
