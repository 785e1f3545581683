/* Assignments: upload, settings, the gradebook, CSV export, regrades. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grade/archive.h"
#include "grade/grade.h"
#include "accounts.h"
#include "routes.h"
#include "scores.h"
#include "util/fs.h"

/* Loads the uploaded archive as the engine would: precise errors, and the
 * title, points and policy it declares. */
static int check_assignment(const struct form_part *f, struct assignment *a, struct lv_err *err)
{
	char dir[] = "/tmp/labvisor-upload-XXXXXX", path[128];
	int rc;

	if (!mkdtemp(dir))
		return lv_err_sys(err, errno, "scratch folder");
	snprintf(path, sizeof(path), "%s/%s", dir, f->filename);
	rc = lv_write_new_file(path, f->data, f->len, 0600, err);
	if (rc == 0)
		rc = assignment_load(path, a, err);
	unlink(path);
	rmdir(dir);
	return rc;
}

static double num_field(const struct req *r, const char *name, double dflt)
{
	const struct form_part *p = req_part(r, name);

	return p && p->len ? strtod(p->data, NULL) : dflt;
}

void api_assignment_create(struct req *r)
{
	const struct form_part *f = req_part(r, "file"), *title = req_part(r, "title");
	struct assignment a;
	struct lv_err err;
	struct new_assignment na;
	int64_t id;

	if (!f || !f->filename || strchr(f->filename, '/') || !is_archive_name(f->filename))
		return reply_error(r, 400, "upload the assignment as 'file': a .zip, .tar, .tar.gz, "
				   ".tar.xz or .tar.bz2 of its folder");
	if (check_assignment(f, &a, &err) < 0) {
		assignment_free(&a);    /* what it unpacked before it failed */
		return reply_error(r, 400, "invalid assignment: %s", err.msg);
	}
	na = (struct new_assignment){
		.a = &a, .title = title && title->len ? title->data : NULL,
		.data = f->data, .len = f->len, .name = f->filename,
		.deadline_ms = (int64_t)num_field(r, "deadline_ms", (double)a.deadline * 1000),
		.late_penalty_pct = num_field(r, "late_penalty_pct", a.late_penalty_pct_per_day),
		.late_cutoff_days = num_field(r, "late_cutoff_days", a.late_cutoff_days),
		.published = num_field(r, "published", 0) != 0,
	};
	id = assignment_store(r->db, r->course_id, r->user_id, &na, &err);
	assignment_free(&a);
	if (id < 0)
		return reply_error(r, 500, "could not store the assignment: %s", err.msg);
	reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", na.state));
}

void api_assignment_get(struct req *r)
{
	struct db_val v[] = { DB_INT(r->assignment_id) };
	json_t *a = query_one(r, "SELECT id, course_id, title, points, deadline_ms, late_penalty_pct, "
			      "late_cutoff_days, published, grades_published, state, state_detail, "
			      "archive_name FROM assignments WHERE id = ?", v, 1,
			      "i:id i:course_id s:title r:points i:deadline_ms r:late_penalty_pct "
			      "r:late_cutoff_days b:published b:grades_published s:state "
			      "s:state_detail s:archive_name");

	if (!a)
		return reply_error(r, 404, "not found");
	json_object_set_new(a, "role", json_string(role_name(r->role)));
	reply_json(r, 200, a);
}

void api_assignment_update(struct req *r)
{
	static const struct { const char *key, *col; char type; } fields[] = {
		{ "title", "title", 's' }, { "deadline_ms", "deadline_ms", 'i' },
		{ "late_penalty_pct", "late_penalty_pct", 'r' },
		{ "late_cutoff_days", "late_cutoff_days", 'r' },
		{ "published", "published", 'b' }, { "grades_published", "grades_published", 'b' },
	};
	json_t *body = req_json(r);
	struct lv_err err;

	if (!body)
		return;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *j = json_object_get(body, fields[i].key);
		char sql[128];
		struct db_val v[2];

		if (!j)
			continue;
		if ((fields[i].type == 's' && !json_is_string(j)) ||
		    (fields[i].type == 'b' && !json_is_boolean(j)) ||
		    (strchr("ir", fields[i].type) && !json_is_number(j))) {
			json_decref(body);
			return reply_error(r, 400, "%s has the wrong type", fields[i].key);
		}
		v[0] = fields[i].type == 's' ? DB_TEXT(json_string_value(j))
		     : fields[i].type == 'r' ? DB_REAL(json_number_value(j))
		     : fields[i].type == 'b' ? DB_INT(json_is_true(j))
					     : DB_INT(json_number_value(j));
		v[1] = DB_INT(r->assignment_id);
		snprintf(sql, sizeof(sql), "UPDATE assignments SET %s = ? WHERE id = ?", fields[i].col);
		if (db_query(r->db, sql, v, 2, NULL, &err) < 0) {
			json_decref(body);
			return reply_error(r, 500, "could not update %s", fields[i].key);
		}
	}
	json_decref(body);
	api_assignment_get(r);
}

/* One row per student: the chosen submission, else the latest. */
#define GRADEBOOK_SQL \
	"SELECT u.id, u.name, u.email, s.id, s.score, s.max_score, s.late_days, s.status, " \
	"s.created_ms, (SELECT COUNT(*) FROM submissions c WHERE c.assignment_id = ? AND " \
	"c.user_id = u.id), s.pending_score, s.pending_result IS NOT NULL " \
	"FROM enrollments e JOIN users u ON u.id = e.user_id LEFT JOIN submissions s ON s.id = " \
	"COALESCE((SELECT submission_id FROM chosen h WHERE h.assignment_id = ? AND h.user_id = u.id), " \
	"(SELECT MAX(id) FROM submissions m WHERE m.assignment_id = ? AND m.user_id = u.id)) " \
	"WHERE e.course_id = ? AND e.role = 'student' ORDER BY u.name, u.id"
#define GRADEBOOK_COLS \
	"i:user_id s:name s:email i:submission_id r:score r:max_score r:late_days s:status " \
	"i:submitted_ms i:submissions r:pending_score b:pending"

static json_t *gradebook(struct req *r)
{
	struct db_val v[] = { DB_INT(r->assignment_id), DB_INT(r->assignment_id),
			      DB_INT(r->assignment_id), DB_INT(r->course_id) };

	return query_json(r, GRADEBOOK_SQL, v, 4, GRADEBOOK_COLS);
}

void api_gradebook(struct req *r)
{
	json_t *rows = gradebook(r);

	if (!rows)
		return reply_error(r, 500, "could not read the gradebook");
	reply_json(r, 200, rows);
}

/* A CSV field: quoted when it holds a comma, quote or newline. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++)
			fputs(*s == '"' ? "\"\"" : (char[]){ *s, 0 }, f);
		fputc('"', f);
	} else {
		fputs(s ? s : "", f);
	}
	fputc(last ? '\n' : ',', f);
}

void api_grades_csv(struct req *r)
{
	json_t *rows = gradebook(r), *row;
	char *text = NULL, num[64];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!rows || !f) {
		json_decref(rows);
		if (f)
			fclose(f);
		free(text);
		return reply_error(r, 500, "could not read the gradebook");
	}
	fputs("email,name,score,max_score,late_days,submission_id,status\n", f);
	json_array_foreach(rows, i, row) {
		json_t *score = json_object_get(row, "score");

		csv_field(f, json_string_value(json_object_get(row, "email")), false);
		csv_field(f, json_string_value(json_object_get(row, "name")), false);
		snprintf(num, sizeof(num), "%g", json_number_value(score));
		csv_field(f, json_is_number(score) ? num : "", false);
		snprintf(num, sizeof(num), "%g", json_number_value(json_object_get(row, "max_score")));
		csv_field(f, json_is_number(json_object_get(row, "max_score")) ? num : "", false);
		snprintf(num, sizeof(num), "%g", json_number_value(json_object_get(row, "late_days")));
		csv_field(f, num, false);
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(row, "submission_id")));
		csv_field(f, json_is_integer(json_object_get(row, "submission_id")) ? num : "", false);
		csv_field(f, json_string_value(json_object_get(row, "status")), true);
	}
	fclose(f);
	json_decref(rows);
	r->disposition = "attachment; filename=\"grades.csv\"";
	reply_text(r, 200, "text/csv; charset=utf-8", text);
}

void api_regrade_all(struct req *r)
{
	json_t *rows = gradebook(r), *row;
	struct lv_err err;
	size_t i, n = 0;

	if (!rows || db_begin(r->db, &err) < 0) {
		json_decref(rows);
		return reply_error(r, 500, "could not read the gradebook");
	}
	json_array_foreach(rows, i, row) {
		json_int_t sid = json_integer_value(json_object_get(row, "submission_id"));

		if (!sid)
			continue;
		if (queue_push(r->db, JOB_REGRADE, sid, r->assignment_id,
			       json_integer_value(json_object_get(row, "user_id")), &err) < 0) {
			db_rollback(r->db);
			json_decref(rows);
			return reply_error(r, 500, "could not queue the regrades");
		}
		n++;
	}
	json_decref(rows);
	if (db_commit(r->db, &err) < 0)
		return reply_error(r, 500, "could not queue the regrades");
	reply_json(r, 202, json_pack("{s:I, s:s}", "queued", (json_int_t)n, "next",
				     "GET this URL for the preview, then POST .../regrade/apply"));
}

void api_regrade_preview(struct req *r)
{
	json_t *rows = gradebook(r), *out = json_array(), *row;
	size_t i, waiting = 0;
	struct db_rows q;
	struct lv_err err;
	struct db_val v[] = { DB_INT(r->assignment_id) };

	json_array_foreach(rows, i, row)
		if (json_is_true(json_object_get(row, "pending")))
			json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O}",
				"user_id", json_object_get(row, "user_id"),
				"submission_id", json_object_get(row, "submission_id"),
				"score", json_object_get(row, "score"),
				"new_score", json_object_get(row, "pending_score")));
	json_decref(rows);
	if (db_query(r->db, "SELECT COUNT(*) FROM jobs WHERE assignment_id = ? AND kind = 'regrade' "
		     "AND state <> 'done'", v, 1, &q, &err) == 0) {
		waiting = (size_t)db_cell_int(&q, 0, 0);
		db_rows_free(&q);
	}
	reply_json(r, 200, json_pack("{s:o, s:I}", "changes", out, "still_running",
				     (json_int_t)waiting));
}

void api_regrade_apply(struct req *r)
{
	struct lv_err err;
	int n = scores_apply_pending(r->db, r->assignment_id, 0, &err);

	if (n < 0)
		return reply_error(r, 500, "%s", err.msg);
	reply_json(r, 200, json_pack("{s:i}", "applied", n));
}

void api_choose(struct req *r)
{
	json_t *body = req_json(r);
	json_int_t sid;
	struct lv_err err;
	json_t *row;

	if (!body)
		return;
	sid = json_integer_value(json_object_get(body, "submission_id"));
	json_decref(body);
	struct db_val v[] = { DB_INT(sid), DB_INT(r->assignment_id) };
	row = query_one(r, "SELECT user_id FROM submissions WHERE id = ? AND assignment_id = ?", v, 2,
			"i:user_id");
	if (!row)
		return reply_error(r, 400, "no such submission of this assignment");
	struct db_val c[] = { DB_INT(r->assignment_id), DB_INT(json_integer_value(json_object_get(row,
			      "user_id"))), DB_INT(sid), DB_INT(sid) };
	json_decref(row);
	if (db_query(r->db, "INSERT INTO chosen (assignment_id, user_id, submission_id) VALUES "
		     "(?, ?, ?) ON CONFLICT (assignment_id, user_id) DO UPDATE SET submission_id = ?",
		     c, 4, NULL, &err) < 0)
		return reply_error(r, 500, "could not record the choice");
	reply_json(r, 200, json_pack("{s:I}", "chosen", sid));
}
