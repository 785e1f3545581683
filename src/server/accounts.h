/* Accounts, enrolments and new assignments, shared by the API, the CSV import
 * and the demo. */
#ifndef LV_SERVER_ACCOUNTS_H
#define LV_SERVER_ACCOUNTS_H

#include "store/store.h"

struct member {
	const char *email, *name, *role, *password;     /* password may be NULL */
	int64_t user_id;                                /* out */
};

/* The user with this email, made (with password, or none to log in with) if new. */
int64_t user_ensure(struct db *db, const char *email, const char *name, const char *password,
		    bool can_create_courses, struct lv_err *err);
/* A course, its creator enrolled as instructor; the new id or -1. */
int64_t course_create(struct db *db, const char *code, const char *title, int64_t creator,
		      struct lv_err *err);
/* Enrols (or changes the role of) m in course. */
int enrol(struct db *db, int64_t course, struct member *m, struct lv_err *err);

struct assignment;

struct new_assignment {
	const struct assignment *a;     /* loaded from the archive (checked) */
	const char *title;              /* NULL: the assignment's own */
	const char *data, *name;        /* the archive as uploaded */
	size_t len;
	int64_t deadline_ms;
	double late_penalty_pct, late_cutoff_days;
	bool published;
	const char *state;              /* out: "ready", or "preparing" (an image to build) */
};

/* Stores an assignment, with a job to build its image when it needs one. */
int64_t assignment_store(struct db *db, int64_t course, int64_t user, struct new_assignment *na,
			 struct lv_err *err);

#endif
