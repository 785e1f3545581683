/*
 * libstore: the platform's durable state — the one public header of the
 * store.  SQL goes through db.h (SQLite or PostgreSQL, the same statements);
 * this header adds the schema (migrations.c) and the job queue (queue.c),
 * the parts whose correctness under concurrency matters most.
 *
 * Submissions' files and assignments' archives are stored in the database
 * (blobs), so a worker on another machine needs nothing but the database,
 * and nothing is written anywhere before it is committed.
 */
#ifndef LV_STORE_H
#define LV_STORE_H

#include <stdint.h>

#include "store/db.h"

int64_t store_now_ms(void);

/* Applies the migrations this database lacks (safe from several processes at once). */
int store_migrate(struct db *db, struct lv_err *err);

/* ---- the job queue (queue.c) ---- */

enum job_kind { JOB_GRADE, JOB_REGRADE, JOB_PREPARE };

struct job {
	int64_t id, submission_id, assignment_id;
	enum job_kind kind;
	int attempts;           /* this claim's number: finishing needs it to match */
};

/*
 * Queues a job.  Fairness: a job's key is how many jobs its student already
 * has waiting, so the queue goes round the students (one student's fifty
 * resubmissions wait behind everyone else's first).  Within a transaction
 * of the caller's.
 */
int queue_push(struct db *db, enum job_kind kind, int64_t submission_id, int64_t assignment_id,
	       int64_t user_id, struct lv_err *err);

/*
 * Claims the next job for worker: atomically (FOR UPDATE SKIP LOCKED on
 * PostgreSQL, the database write lock on SQLite).  Returns 1 with *job, 0
 * when the queue is empty.
 */
int queue_claim(struct db *db, const char *worker, struct job *job, struct lv_err *err);

/* The worker still works on job (every few seconds); 0 when it lost the job. */
int queue_heartbeat(struct db *db, const char *worker, const struct job *job,
		    struct lv_err *err);

/* Jobs whose worker sent no heartbeat for timeout_ms go back to the queue. */
int queue_requeue_stale(struct db *db, int64_t timeout_ms, struct lv_err *err);

/*
 * Marks job done, inside the caller's transaction, only if this worker's
 * claim still holds (same worker, same attempt, still running): returns 1
 * then, 0 when the job was taken back meanwhile — the caller rolls back, so
 * a job's result is recorded exactly once.
 */
int queue_finish(struct db *db, const char *worker, const struct job *job, struct lv_err *err);

/* Jobs ahead of a submission's (0: it is next or running), -1 if none waits. */
int64_t queue_position(struct db *db, int64_t submission_id, struct lv_err *err);

#endif
