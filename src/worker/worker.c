/*
 * The worker loop: take back stale claims, claim the next job, run it while
 * a heartbeat process keeps the claim alive (and cancels the grading if the
 * claim is lost), then record the outcome in one transaction guarded by the
 * claim — so a job whose worker vanished is re-run and recorded once.
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "grade/archive.h"
#include "grade/grade.h"
#include "sandbox/sandbox.h"
#include "store/store.h"
#include "util/fs.h"

#define IDLE_POLL_MS 250
#define MAX_CACHED 32

struct cached {
	int64_t id;
	struct assignment a;
};

struct worker {
	const struct worker_config *cfg;
	struct db *db;
	char scratch[64];               /* this worker's, locked while it lives */
	int scratch_lock;
	struct cached cache[MAX_CACHED];
	unsigned ncached;
};

struct progress {
	struct worker *w;
	const struct job *job;
	bool testing;
	int64_t last_ms;
};

static void say(const struct worker_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct worker_config *cfg, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (cfg->log)
		cfg->log(line);
}

/* Written once: a file already there (the assignment cache) is kept. */
static int write_file(const char *path, const char *data, size_t len, struct lv_err *err)
{
	if (lv_write_new_file(path, data, len, 0600, err) == 0)
		return 0;
	return err->errnum == EEXIST ? 0 : -1;
}

/* The assignment, unpacked once per worker and kept; policy from the database. */
static struct assignment *assignment_for(struct worker *w, int64_t id, struct lv_err *err)
{
	struct db_val v[] = { DB_INT(id) };
	struct db_rows r;
	struct assignment *a = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 300];

	if (db_query(w->db, "SELECT archive, archive_name, deadline_ms, late_penalty_pct, "
		     "late_cutoff_days, title FROM assignments WHERE id = ?", v, 1, &r, err) < 0)
		return NULL;
	if (!r.nrows) {
		lv_err_set(err, "assignment %lld is gone", (long long)id);
		goto out;
	}
	for (unsigned i = 0; i < w->ncached && !a; i++)
		if (w->cache[i].id == id)
			a = &w->cache[i].a;
	if (!a) {
		struct cached *c = &w->cache[w->ncached < MAX_CACHED ? w->ncached++ : 0];

		if (c->id)
			assignment_free(&c->a);
		c->id = 0;
		snprintf(dir, sizeof(dir), "%s/assignments/%lld", w->cfg->work_dir, (long long)id);
		snprintf(path, sizeof(path), "%s/%s", dir, db_cell(&r, 0, 1));
		if (lv_mkdirs(dir, 0711, err) < 0 ||
		    write_file(path, r.cell[0], r.len[0], err) < 0)
			goto out;
		if (assignment_load_in(path, w->scratch, &c->a, err) < 0) {
			assignment_free(&c->a);
			goto out;
		}
		c->id = id;
		a = &c->a;
	}
	a->deadline = (time_t)(db_cell_int(&r, 0, 2) / 1000);
	a->late_penalty_pct_per_day = db_cell_real(&r, 0, 3);
	a->late_cutoff_days = db_cell_real(&r, 0, 4);
out:
	db_rows_free(&r);
	return a;
}

/*
 * The heartbeat is a child process, not a thread: grading forks sandboxes,
 * and a fork while another thread holds a lock (the database's, stdio's)
 * leaves the child waiting on it forever.  It beats with a connection of
 * its own and, when the claim is lost, tells the worker with SIGUSR1.
 */
static volatile sig_atomic_t claim_lost;

static void on_claim_lost(int sig)
{
	(void)sig;
	claim_lost = 1;
}

__attribute__((noreturn)) static void heartbeat_main(const struct worker_config *cfg,
						     const struct job *job, pid_t worker)
{
	struct lv_err err;
	struct db *db;

	/* The inherited connection is the worker's: never used or closed here. */
	if (db_open(cfg->db_url, &db, &err) < 0)
		_exit(1);
	for (;;) {
		struct timespec ts = { cfg->heartbeat_ms / 1000, (cfg->heartbeat_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
		if (getppid() != worker)
			_exit(0);
		if (queue_heartbeat(db, cfg->name, job, &err) == 0) {
			kill(worker, SIGUSR1);
			_exit(0);
		}
	}
}

static pid_t start_heartbeat(const struct worker_config *cfg, const struct job *job)
{
	pid_t worker = getpid(), pid;

	claim_lost = 0;
	signal(SIGUSR1, on_claim_lost);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		heartbeat_main(cfg, job, worker);
	}
	return pid;
}

static void set_status(struct worker *w, int64_t submission_id, const char *status)
{
	struct db_val v[] = { DB_TEXT(status), DB_INT(store_now_ms()), DB_INT(submission_id) };
	struct lv_err err;

	db_query(w->db, "UPDATE submissions SET status = ?, updated_ms = ? WHERE id = ? AND "
		 "status <> 'graded'", v, 3, NULL, &err);
}

static void set_assignment_state(struct db *db, int64_t id, const char *state, const char *detail)
{
	struct db_val v[] = { DB_TEXT(state), DB_TEXT(detail), DB_INT(id) };
	struct lv_err err;

	db_query(db, "UPDATE assignments SET state = ?, state_detail = ? WHERE id = ?", v, 3, NULL,
		 &err);
}

/* Progress lines: the submission goes building -> testing; an image build
 * shows its last line on the assignment (at most twice a second). */
static void on_progress(void *ctx, const char *line)
{
	struct progress *p = ctx;
	int64_t now = store_now_ms();

	if (p->job->kind == JOB_GRADE && !p->testing && line[0] == '[') {
		p->testing = true;
		set_status(p->w, p->job->submission_id, "testing");
	}
	if (p->job->kind == JOB_PREPARE && now - p->last_ms > 500) {
		p->last_ms = now;
		set_assignment_state(p->w->db, p->job->assignment_id, "preparing", line);
	}
}

/* Records the outcome if the claim still holds; returns 1 recorded, 0 lost. */
static int record(struct worker *w, const struct job *job, const char *sql,
		  const struct db_val *v, size_t n)
{
	struct lv_err err;
	int held;

	if (db_begin(w->db, &err) < 0)
		return -1;
	held = queue_finish(w->db, w->cfg->name, job, &err);
	if (held == 1 && (!sql || db_query(w->db, sql, v, n, NULL, &err) == 0) &&
	    db_commit(w->db, &err) == 0)
		return 1;
	db_rollback(w->db);
	if (held != 0)
		say(w->cfg, "job %lld: could not record the result: %s", (long long)job->id, err.msg);
	return held == 0 ? 0 : -1;
}

/* Our failure, recorded as such: never the student's zero. */
static int record_infra_error(struct worker *w, const struct job *job, const char *msg)
{
	json_t *j = json_pack("{s:n, s:s, s:[], s:{s:s}}", "score", "output",
			      "Grading could not be completed because of a problem on our side.",
			      "tests", "labvisor", "infra_error", msg);
	char *text = json_dumps(j, JSON_COMPACT);
	struct db_val v[] = { DB_TEXT(text), DB_INT(job->submission_id) };
	/* A regrade that failed leaves the current result alone. */
	int rc = job->kind == JOB_REGRADE ? record(w, job, NULL, NULL, 0)
		: record(w, job, "UPDATE submissions SET status = 'error', result = ? WHERE id = ?",
			 v, 2);

	free(text);
	json_decref(j);
	return rc;
}

static int run_prepare(struct worker *w, const struct job *job, struct grade_request *req)
{
	struct lv_err err;
	struct assignment *a = assignment_for(w, job->assignment_id, &err);
	bool ok = a && grade_prepare(a, req, &err) == 0;
	struct db_val v[] = { DB_TEXT(ok ? "ready" : "invalid"), DB_TEXT(ok ? "" : err.msg),
			      DB_INT(job->assignment_id) };

	say(w->cfg, "job %lld: assignment %lld %s%s%s", (long long)job->id,
	    (long long)job->assignment_id, ok ? "ready" : "failed: ", ok ? "" : err.msg, "");
	return record(w, job, "UPDATE assignments SET state = ?, state_detail = ? WHERE id = ?", v, 3);
}

/* The submission's stored archive, written where the engine can read it. */
static int fetch_submission(struct worker *w, const struct job *job, char *dir, char *path,
			    size_t len, time_t *submitted_at, struct lv_err *err)
{
	struct db_val v[] = { DB_INT(job->submission_id) };
	struct db_rows r;
	int rc;

	if (db_query(w->db, "SELECT archive, archive_name, created_ms FROM submissions WHERE id = ?",
		     v, 1, &r, err) < 0)
		return -1;
	if (!r.nrows) {
		db_rows_free(&r);
		return lv_err_set(err, "submission %lld is gone", (long long)job->submission_id);
	}
	snprintf(dir, PATH_MAX, "%s/submission-%lld", w->scratch, (long long)job->submission_id);
	snprintf(path, len, "%s/%s", dir, db_cell(&r, 0, 1));
	*submitted_at = (time_t)(db_cell_int(&r, 0, 2) / 1000);
	rc = lv_mkdirs(dir, 0711, err) < 0 ? -1 : write_file(path, r.cell[0], r.len[0], err);
	db_rows_free(&r);
	return rc;
}

static int run_grade(struct worker *w, const struct job *job, struct grade_request *req)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct grade_result res;
	struct lv_err err;
	struct assignment *a;
	char *json = NULL;
	int rc;

	if (job->kind == JOB_GRADE)
		set_status(w, job->submission_id, "building");
	a = assignment_for(w, job->assignment_id, &err);
	dir[0] = '\0';
	rc = !a || fetch_submission(w, job, dir, path, sizeof(path), &req->submitted_at, &err) < 0 ||
	     grade_run(a, (req->submission = path, req), &res, &err) < 0 ? -1 : 0;
	if (dir[0])
		remove_tree(dir);
	if (rc < 0) {
		say(w->cfg, "job %lld: %s", (long long)job->id, err.msg);
		return record_infra_error(w, job, err.msg);
	}
	json = grade_result_json(a, &res);
	say(w->cfg, "job %lld: submission %lld: %s %.2f/%.2f in %.1f s", (long long)job->id,
	    (long long)job->submission_id, res.infra_error ? "infrastructure error," : "graded",
	    res.score, res.max_score, res.seconds);
	struct db_val g[] = { DB_TEXT(res.infra_error ? "error" : "graded"),
			      res.infra_error ? DB_NULL : DB_REAL(res.score), DB_REAL(res.max_score),
			      DB_REAL(res.late_days), DB_TEXT(json), DB_INT(store_now_ms()),
			      DB_INT(store_now_ms()), DB_INT(job->submission_id) };
	struct db_val p[] = { DB_TEXT(json), res.infra_error ? DB_NULL : DB_REAL(res.score),
			      DB_INT(job->submission_id) };
	if (job->kind == JOB_GRADE)
		rc = record(w, job, "UPDATE submissions SET status = ?, score = ?, max_score = ?, "
			    "late_days = ?, result = ?, graded_ms = ?, updated_ms = ? WHERE id = ?",
			    g, 8);
	else
		rc = record(w, job, "UPDATE submissions SET pending_result = ?, pending_score = ? "
			    "WHERE id = ?", p, 3);
	free(json);
	grade_result_free(&res);
	return rc;
}

static void run_job(struct worker *w, const struct job *job)
{
	struct progress p = { .w = w, .job = job };
	struct grade_request req = { .jobs = w->cfg->jobs ? w->cfg->jobs : 1, .cancel = &claim_lost,
				     .work_root = w->scratch,
				     .progress = on_progress, .progress_ctx = &p };
	pid_t beat = start_heartbeat(w->cfg, job);
	int rc = job->kind == JOB_PREPARE ? run_prepare(w, job, &req) : run_grade(w, job, &req);

	if (beat > 0) {
		kill(beat, SIGKILL);
		waitpid(beat, NULL, 0);
	}
	if (rc == 0)
		say(w->cfg, "job %lld: another worker took it over; this result is dropped",
		    (long long)job->id);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Scratch folders (unpacked assignments, grading folders) live in one folder
 * per worker under /tmp, 0711 like /tmp itself for the sandboxes' users.  Its
 * lock file is held while the worker lives, so a worker can tell a killed
 * worker's folder (lock free) from a running one's, and remove it.
 */
#define SCRATCH_PREFIX "/tmp/labvisor-worker-"

static int scratch_open(struct worker *w, struct lv_err *err)
{
	char lock[96];

	snprintf(w->scratch, sizeof(w->scratch), SCRATCH_PREFIX "XXXXXX");
	if (!mkdtemp(w->scratch) || chmod(w->scratch, 0711) < 0)
		return lv_err_sys(err, errno, "scratch folder %s", w->scratch);
	char final[96];

	/* locked before it is named "lock": a reaper never sees it unlocked */
	snprintf(lock, sizeof(lock), "%s/lock.new", w->scratch);
	snprintf(final, sizeof(final), "%s/lock", w->scratch);
	w->scratch_lock = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (w->scratch_lock < 0 || flock(w->scratch_lock, LOCK_EX) < 0 || rename(lock, final) < 0)
		return lv_err_sys(err, errno, "%s", lock);
	return 0;
}

/* Removes the scratch folders of workers that are gone; returns how many. */
static int scratch_reap(void)
{
	glob_t g;
	int n = 0;

	if (glob(SCRATCH_PREFIX "*/lock", 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int fd = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);

		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*strrchr(g.gl_pathv[i], '/') = '\0';
			remove_tree(g.gl_pathv[i]);
			n++;
		}
		if (fd >= 0)
			close(fd);
	}
	globfree(&g);
	return n;
}

/* What killed workers left on this machine: sandboxes' cgroups and state,
 * scratch folders. */
static void reap_dead_workers(const struct worker_config *cfg)
{
	struct lv_err err;

	if (sandbox_cleanup(&err) > 0 || scratch_reap() > 0)
		say(cfg, "removed what a stopped worker left behind");
}

int worker_run(const struct worker_config *cfg, struct lv_err *err)
{
	struct worker w = { .cfg = cfg };
	unsigned done = 0;

	/* 0711, as /tmp for `labvisor grade`: the sandboxes' users pass through to
	 * their own scratch folders; nobody but root lists or reads the rest. */
	if (lv_mkdirs(cfg->work_dir, 0711, err) < 0 || chmod(cfg->work_dir, 0711) < 0 ||
	    db_open(cfg->db_url, &w.db, err) < 0)
		return -1;
	if (store_migrate(w.db, err) < 0) {
		db_close(w.db);
		return -1;
	}
	reap_dead_workers(cfg);
	if (scratch_open(&w, err) < 0) {
		db_close(w.db);
		return -1;
	}
	say(cfg, "worker %s: waiting for jobs", cfg->name);
	while (!(cfg->stop && *cfg->stop) && (!cfg->max_jobs || done < cfg->max_jobs)) {
		struct job job;
		int got;

		if (queue_requeue_stale(w.db, cfg->stale_ms, err) > 0) {
			say(cfg, "took back jobs of a worker that stopped answering");
			reap_dead_workers(cfg);
		}
		got = queue_claim(w.db, cfg->name, &job, err);
		if (got < 0) {
			say(cfg, "queue: %s", err->msg);
			sleep_ms(1000);
			continue;
		}
		if (got == 0) {
			sleep_ms(IDLE_POLL_MS);
			continue;
		}
		run_job(&w, &job);
		done++;
	}
	for (unsigned i = 0; i < w.ncached; i++)
		if (w.cache[i].id)
			assignment_free(&w.cache[i].a);
	remove_tree(w.scratch);
	close(w.scratch_lock);
	db_close(w.db);
	return 0;
}
