/*
 * The schema, as numbered migrations applied in order on start, each in its
 * own transaction and recorded in schema_migrations.  One text for both
 * databases: {pk} and {blob} are the only words that differ.  Times are
 * milliseconds since the epoch (BIGINT).  Never edit a released migration;
 * add the next one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static const char *const migrations[] = {
	/* 1: accounts, courses, assignments, submissions, the job queue */
	"CREATE TABLE users ("
	"  id {pk}, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, pw_hash TEXT,"
	"  can_create_courses INTEGER NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL);"
	"CREATE TABLE courses ("
	"  id {pk}, code TEXT NOT NULL UNIQUE, title TEXT NOT NULL, created_ms BIGINT NOT NULL);"
	"CREATE TABLE enrollments ("
	"  course_id BIGINT NOT NULL REFERENCES courses(id),"
	"  user_id BIGINT NOT NULL REFERENCES users(id),"
	"  role TEXT NOT NULL CHECK (role IN ('instructor', 'ta', 'student')),"
	"  PRIMARY KEY (course_id, user_id));"
	"CREATE TABLE sessions ("
	"  token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id),"
	"  csrf TEXT NOT NULL, expires_ms BIGINT NOT NULL);"
	"CREATE TABLE api_tokens ("
	"  token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL, created_ms BIGINT NOT NULL);"
	"CREATE TABLE assignments ("
	"  id {pk}, course_id BIGINT NOT NULL REFERENCES courses(id), title TEXT NOT NULL,"
	"  archive {blob} NOT NULL, archive_name TEXT NOT NULL, points REAL NOT NULL DEFAULT 0,"
	"  deadline_ms BIGINT NOT NULL DEFAULT 0, late_penalty_pct REAL NOT NULL DEFAULT 0,"
	"  late_cutoff_days REAL NOT NULL DEFAULT 0, published INTEGER NOT NULL DEFAULT 0,"
	"  grades_published INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'preparing',"
	"  state_detail TEXT NOT NULL DEFAULT '', created_ms BIGINT NOT NULL);"
	"CREATE TABLE submissions ("
	"  id {pk}, assignment_id BIGINT NOT NULL REFERENCES assignments(id),"
	"  user_id BIGINT NOT NULL REFERENCES users(id), created_ms BIGINT NOT NULL,"
	"  archive {blob} NOT NULL, archive_name TEXT NOT NULL, size BIGINT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'queued', score REAL, max_score REAL,"
	"  late_days REAL NOT NULL DEFAULT 0, result TEXT, pending_result TEXT,"
	"  pending_score REAL, updated_ms BIGINT NOT NULL, graded_ms BIGINT);"
	"CREATE INDEX submissions_by_student ON submissions (assignment_id, user_id);"
	"CREATE TABLE jobs ("
	"  id {pk}, kind TEXT NOT NULL CHECK (kind IN ('grade', 'regrade', 'prepare')),"
	"  submission_id BIGINT REFERENCES submissions(id),"
	"  assignment_id BIGINT NOT NULL REFERENCES assignments(id),"
	"  user_id BIGINT NOT NULL, fair_key BIGINT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued', worker TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
	"  claimed_ms BIGINT, heartbeat_ms BIGINT, created_ms BIGINT NOT NULL,"
	"  finished_ms BIGINT);"
	"CREATE INDEX jobs_queued ON jobs (state, fair_key, id);"
	"CREATE TABLE overrides ("
	"  submission_id BIGINT NOT NULL REFERENCES submissions(id), test_name TEXT NOT NULL,"
	"  points REAL NOT NULL, comment TEXT NOT NULL, by_user BIGINT NOT NULL,"
	"  at_ms BIGINT NOT NULL, PRIMARY KEY (submission_id, test_name));"
	"CREATE TABLE chosen ("
	"  assignment_id BIGINT NOT NULL, user_id BIGINT NOT NULL,"
	"  submission_id BIGINT NOT NULL REFERENCES submissions(id),"
	"  PRIMARY KEY (assignment_id, user_id));",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* {pk} and {blob} in the dialect of db. */
static char *dialect(const struct db *db, const char *sql)
{
	const char *pk = db_kind(db) == DB_SQLITE ? "INTEGER PRIMARY KEY AUTOINCREMENT"
						  : "BIGSERIAL PRIMARY KEY";
	const char *blob = db_kind(db) == DB_SQLITE ? "BLOB" : "BYTEA";
	char *out = malloc(strlen(sql) * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = sql; *p;) {
		if (strncmp(p, "{pk}", 4) == 0) {
			o = stpcpy(o, pk);
			p += 4;
		} else if (strncmp(p, "{blob}", 6) == 0) {
			o = stpcpy(o, blob);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static long applied_version(struct db *db, struct lv_err *err)
{
	struct db_rows r;
	long v;

	if (db_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations "
		      "(version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)", err) < 0 ||
	    db_query(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0, &r,
		     err) < 0)
		return -1;
	v = (long)db_cell_int(&r, 0, 0);
	db_rows_free(&r);
	return v;
}

static int apply(struct db *db, size_t i, struct lv_err *err)
{
	char *sql = dialect(db, migrations[i]);
	struct db_val v[2] = { DB_INT(i + 1), DB_INT(store_now_ms()) };
	int rc;

	if (!sql)
		return lv_err_set(err, "out of memory");
	rc = db_begin(db, err);
	if (rc == 0 && applied_version(db, err) > (long)i) {
		free(sql);              /* another process applied it meanwhile */
		return db_commit(db, err);
	}
	if (rc == 0)
		rc = db_script(db, sql, err);
	if (rc == 0)
		rc = db_query(db, "INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)",
			      v, 2, NULL, err);
	if (rc == 0)
		rc = db_commit(db, err);
	if (rc < 0) {
		db_rollback(db);
		lv_err_set(err, "migration %zu: %s", i + 1, err->msg);
	}
	free(sql);
	return rc;
}

int store_migrate(struct db *db, struct lv_err *err)
{
	long v;

	/* Two processes starting at once: the second waits on the lock, then finds the work done. */
	if (db_kind(db) == DB_POSTGRES &&
	    db_script(db, "SELECT pg_advisory_lock(727274)", err) < 0)
		return -1;
	v = applied_version(db, err);
	if (v > (long)NMIGRATIONS)
		lv_err_set(err, "the database's schema (version %ld) is newer than this labvisor "
			   "(version %zu)", v, NMIGRATIONS);
	for (size_t i = v < 0 ? NMIGRATIONS : (size_t)v; i < NMIGRATIONS; i++)
		if (apply(db, i, err) < 0) {
			v = -1;
			break;
		}
	if (db_kind(db) == DB_POSTGRES)
		db_script(db, "SELECT pg_advisory_unlock(727274)", &(struct lv_err){ 0 });
	return v < 0 || v > (long)NMIGRATIONS ? -1 : 0;
}
