/*
 * The API's route table and its one authorization check.  Each route names
 * the object its path is about (a course, an assignment, a submission) and
 * who may use it; authorize() loads the object's course and the caller's
 * role there, and refuses before any handler runs: 401 without a login,
 * 404 for what the caller may not know exists (another course, an
 * unpublished assignment for a student, another student's submission),
 * 403 for a known object that needs a higher role.
 */
#ifndef LV_SERVER_ROUTES_H
#define LV_SERVER_ROUTES_H

#include "server.h"

enum need { NEED_PUBLIC, NEED_USER, NEED_MEMBER, NEED_OWNER_OR_STAFF, NEED_STAFF,
	    NEED_INSTRUCTOR };
enum object { OBJ_NONE, OBJ_COURSE, OBJ_ASSIGNMENT, OBJ_SUBMISSION };

struct route {
	const char *method, *pattern;   /* "#" in a pattern: a number, into req.ids */
	enum object obj;
	enum need need;
	void (*handler)(struct req *r);
};

void route_request(struct req *r);

/* Handlers (api_*.c). */
void api_me(struct req *r);
void api_token_create(struct req *r);
void api_course_create(struct req *r);
void api_course_get(struct req *r);
void api_members_list(struct req *r);
void api_member_add(struct req *r);
void api_members_csv(struct req *r);
void api_assignment_create(struct req *r);
void api_assignment_get(struct req *r);
void api_assignment_update(struct req *r);
void api_submission_create(struct req *r);
void api_submissions_list(struct req *r);
void api_gradebook(struct req *r);
void api_grades_csv(struct req *r);
void api_regrade_all(struct req *r);
void api_regrade_preview(struct req *r);
void api_regrade_apply(struct req *r);
void api_choose(struct req *r);
void api_submission_get(struct req *r);
void api_submission_files(struct req *r);
void api_submission_log(struct req *r);
void api_override(struct req *r);
void api_regrade_one(struct req *r);

#endif
