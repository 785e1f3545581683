/*
 * libworker: `labvisor worker` — claims jobs from the store's queue and runs
 * them with the grading engine: grading a submission, regrading it (the
 * result waits for the staff's preview), preparing an assignment (its image).
 * Any number of workers, on one machine or many sharing one PostgreSQL.
 */
#ifndef LV_WORKER_H
#define LV_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "util/err.h"

struct worker_config {
	const char *db_url;
	const char *name;               /* who holds a claim (default host:pid) */
	const char *work_dir;           /* scratch and the assignment cache */
	unsigned jobs;                  /* tests in parallel within one submission */
	int64_t stale_ms;               /* a claim without heartbeat for this long is taken back */
	int64_t heartbeat_ms;
	unsigned max_jobs;              /* stop after this many jobs (0: never; tests) */
	volatile sig_atomic_t *stop;    /* set by a signal: finish the job at hand, then return */
	void (*log)(const char *line);
};

int worker_run(const struct worker_config *cfg, struct lv_err *err);

#endif
