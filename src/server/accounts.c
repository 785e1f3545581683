#include "accounts.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "grade/spec.h"
#include "server.h"

static int64_t first_int(struct db *db, const char *sql, const struct db_val *v, size_t n,
			 struct lv_err *err)
{
	struct db_rows r;
	int64_t id;

	if (db_query(db, sql, v, n, &r, err) < 0)
		return -1;
	id = r.nrows ? db_cell_int(&r, 0, 0) : 0;
	db_rows_free(&r);
	return id;
}

int64_t user_ensure(struct db *db, const char *email, const char *name, const char *password,
		    bool can_create_courses, struct lv_err *err)
{
	struct db_val by_email[] = { DB_TEXT(email) };
	int64_t id = first_int(db, "SELECT id FROM users WHERE email = ?", by_email, 1, err);
	char *hash;

	if (id != 0)
		return id;
	hash = password && *password ? auth_hash_password(password) : NULL;
	if (password && *password && !hash)
		return lv_err_set(err, "could not hash the password");
	struct db_val v[] = { DB_TEXT(email), DB_TEXT(name), DB_TEXT(hash),
			      DB_INT(can_create_courses), DB_INT(store_now_ms()) };
	id = first_int(db, "INSERT INTO users (email, name, pw_hash, can_create_courses, created_ms) "
		       "VALUES (?, ?, ?, ?, ?) RETURNING id", v, 5, err);
	free(hash);
	return id;
}

int64_t course_create(struct db *db, const char *code, const char *title, int64_t creator,
		      struct lv_err *err)
{
	struct db_val v[] = { DB_TEXT(code), DB_TEXT(title), DB_INT(store_now_ms()) };
	int64_t id;

	if (db_begin(db, err) < 0)
		return -1;
	id = first_int(db, "INSERT INTO courses (code, title, created_ms) VALUES (?, ?, ?) "
		       "RETURNING id", v, 3, err);
	if (id > 0 && db_query(db, "INSERT INTO enrollments (course_id, user_id, role) "
			       "VALUES (?, ?, 'instructor')",
			       (struct db_val[]){ DB_INT(id), DB_INT(creator) }, 2, NULL, err) < 0)
		id = -1;
	if (id <= 0 || db_commit(db, err) < 0) {
		db_rollback(db);
		return lv_err_set(err, "course %s could not be created (is the code taken?)", code);
	}
	return id;
}

static bool valid_email(const char *e)
{
	const char *at = e ? strchr(e, '@') : NULL;

	return at && at > e && strchr(at, '.') && !strpbrk(e, " ,<>\"'");
}

int enrol(struct db *db, int64_t course, struct member *m, struct lv_err *err)
{
	if (!valid_email(m->email))
		return lv_err_set(err, "'%s' is not an email address", m->email ? m->email : "");
	if (role_parse(m->role) == ROLE_NONE)
		return lv_err_set(err, "role must be student, ta or instructor (not '%s')",
				  m->role ? m->role : "");
	m->user_id = user_ensure(db, m->email, m->name && *m->name ? m->name : m->email,
				 m->password, false, err);
	if (m->user_id <= 0)
		return -1;
	struct db_val v[] = { DB_INT(course), DB_INT(m->user_id), DB_TEXT(m->role), DB_TEXT(m->role) };
	return db_query(db, "INSERT INTO enrollments (course_id, user_id, role) VALUES (?, ?, ?) "
			"ON CONFLICT (course_id, user_id) DO UPDATE SET role = ?", v, 4, NULL, err);
}

int64_t assignment_store(struct db *db, int64_t course, int64_t user, struct new_assignment *na,
			 struct lv_err *err)
{
	bool needs_image = na->a->gradescope || na->a->image;
	struct db_val v[] = {
		DB_INT(course), DB_TEXT(na->title ? na->title : na->a->title),
		DB_BLOB(na->data, na->len), DB_TEXT(na->name), DB_REAL(na->a->points),
		DB_INT(na->deadline_ms), DB_REAL(na->late_penalty_pct), DB_REAL(na->late_cutoff_days),
		DB_INT(na->published), DB_TEXT(needs_image ? "preparing" : "ready"),
		DB_TEXT(needs_image ? "waiting for a worker to build the image" : ""),
		DB_INT(store_now_ms()),
	};
	int64_t id;

	na->state = needs_image ? "preparing" : "ready";
	if (db_begin(db, err) < 0)
		return -1;
	id = first_int(db, "INSERT INTO assignments (course_id, title, archive, archive_name, points, "
		       "deadline_ms, late_penalty_pct, late_cutoff_days, published, state, "
		       "state_detail, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		       "RETURNING id", v, sizeof(v) / sizeof(v[0]), err);
	if (id <= 0 || (needs_image && queue_push(db, JOB_PREPARE, 0, id, user, err) < 0) ||
	    db_commit(db, err) < 0) {
		db_rollback(db);
		return -1;
	}
	return id;
}
