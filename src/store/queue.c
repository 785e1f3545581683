/*
 * The job queue in the database (see store.h).  A job is 'queued', then
 * 'running' under one worker's claim (worker, attempts) with heartbeats,
 * then 'done'.  A claim that stops beating is put back; the claim's attempt
 * number makes a late finish by the vanished worker fail, so each job's
 * result is recorded once.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store.h"

static const char *const kind_names[] = { "grade", "regrade", "prepare" };

int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int queue_push(struct db *db, enum job_kind kind, int64_t submission_id, int64_t assignment_id,
	       int64_t user_id, struct lv_err *err)
{
	struct db_val v[] = {
		DB_TEXT(kind_names[kind]), submission_id ? DB_INT(submission_id) : DB_NULL,
		DB_INT(assignment_id), DB_INT(user_id), DB_INT(user_id), DB_INT(store_now_ms()),
	};

	return db_query(db,
		"INSERT INTO jobs (kind, submission_id, assignment_id, user_id, fair_key, created_ms) "
		"VALUES (?, ?, ?, ?, (SELECT COUNT(*) FROM jobs WHERE user_id = ? AND state = 'queued'), ?)",
		v, sizeof(v) / sizeof(v[0]), NULL, err);
}

static enum job_kind kind_of(const char *s)
{
	for (unsigned k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (s && strcmp(s, kind_names[k]) == 0)
			return (enum job_kind)k;
	return JOB_GRADE;
}

int queue_claim(struct db *db, const char *worker, struct job *job, struct lv_err *err)
{
	const char *sql = db_kind(db) == DB_POSTGRES
		? "UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1, "
		  "claimed_ms = ?, heartbeat_ms = ? WHERE id = (SELECT id FROM jobs WHERE "
		  "state = 'queued' ORDER BY fair_key, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		  "RETURNING id, kind, submission_id, assignment_id, attempts"
		: "UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1, "
		  "claimed_ms = ?, heartbeat_ms = ? WHERE id = (SELECT id FROM jobs WHERE "
		  "state = 'queued' ORDER BY fair_key, id LIMIT 1) "
		  "RETURNING id, kind, submission_id, assignment_id, attempts";
	int64_t now = store_now_ms();
	struct db_val v[] = { DB_TEXT(worker), DB_INT(now), DB_INT(now) };
	struct db_rows r;
	int found;

	/* One statement: atomic on its own in both databases (SQLite takes its
	 * write lock for it; the row lock skips rows other workers hold). */
	if (db_query(db, sql, v, 3, &r, err) < 0)
		return -1;
	found = r.nrows > 0;
	if (found) {
		job->id = db_cell_int(&r, 0, 0);
		job->kind = kind_of(db_cell(&r, 0, 1));
		job->submission_id = db_cell_int(&r, 0, 2);
		job->assignment_id = db_cell_int(&r, 0, 3);
		job->attempts = (int)db_cell_int(&r, 0, 4);
	}
	db_rows_free(&r);
	return found;
}

/* An UPDATE guarded by this worker's claim; 1 when the claim held. */
static int update_claimed(struct db *db, const char *set, const char *worker,
			  const struct job *job, struct lv_err *err)
{
	char sql[256];
	struct db_val v[] = { DB_INT(store_now_ms()), DB_INT(job->id), DB_TEXT(worker),
			      DB_INT(job->attempts) };
	struct db_rows r;
	int held;

	snprintf(sql, sizeof(sql), "UPDATE jobs SET %s WHERE id = ? AND worker = ? AND "
		 "attempts = ? AND state = 'running' RETURNING id", set);
	if (db_query(db, sql, v, 4, &r, err) < 0)
		return -1;
	held = r.nrows == 1;
	db_rows_free(&r);
	return held;
}

int queue_heartbeat(struct db *db, const char *worker, const struct job *job,
		    struct lv_err *err)
{
	return update_claimed(db, "heartbeat_ms = ?", worker, job, err);
}

int queue_finish(struct db *db, const char *worker, const struct job *job, struct lv_err *err)
{
	return update_claimed(db, "state = 'done', finished_ms = ?", worker, job, err);
}

int queue_requeue_stale(struct db *db, int64_t timeout_ms, struct lv_err *err)
{
	struct db_val v[] = { DB_INT(store_now_ms() - timeout_ms) };
	struct db_rows r;
	int n;

	if (db_query(db, "UPDATE jobs SET state = 'queued', worker = NULL WHERE state = 'running' "
		     "AND heartbeat_ms < ? RETURNING id", v, 1, &r, err) < 0)
		return -1;
	n = (int)r.nrows;
	db_rows_free(&r);
	return n;
}

int64_t queue_position(struct db *db, int64_t submission_id, struct lv_err *err)
{
	struct db_val v[] = { DB_INT(submission_id) };
	struct db_rows r;
	int64_t pos = -1;

	if (db_query(db,
		"SELECT (SELECT COUNT(*) FROM jobs o WHERE o.state = 'queued' AND "
		"(o.fair_key < j.fair_key OR (o.fair_key = j.fair_key AND o.id < j.id))) "
		"FROM jobs j WHERE j.submission_id = ? AND j.state = 'queued' ORDER BY j.id DESC LIMIT 1",
		v, 1, &r, err) < 0)
		return -1;
	if (r.nrows)
		pos = db_cell_int(&r, 0, 0);
	db_rows_free(&r);
	return pos;
}
