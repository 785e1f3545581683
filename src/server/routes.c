#include "routes.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static const struct route routes[] = {
	{ "POST", "/login", OBJ_NONE, NEED_PUBLIC, auth_login },
	{ "POST", "/logout", OBJ_NONE, NEED_PUBLIC, auth_logout },
	{ "GET", "/me", OBJ_NONE, NEED_USER, api_me },
	{ "POST", "/tokens", OBJ_NONE, NEED_USER, api_token_create },
	{ "POST", "/courses", OBJ_NONE, NEED_USER, api_course_create },
	{ "GET", "/courses/#", OBJ_COURSE, NEED_MEMBER, api_course_get },
	{ "GET", "/courses/#/members", OBJ_COURSE, NEED_STAFF, api_members_list },
	{ "POST", "/courses/#/members", OBJ_COURSE, NEED_INSTRUCTOR, api_member_add },
	{ "POST", "/courses/#/members.csv", OBJ_COURSE, NEED_INSTRUCTOR, api_members_csv },
	{ "POST", "/courses/#/assignments", OBJ_COURSE, NEED_INSTRUCTOR, api_assignment_create },
	{ "GET", "/assignments/#", OBJ_ASSIGNMENT, NEED_MEMBER, api_assignment_get },
	{ "PATCH", "/assignments/#", OBJ_ASSIGNMENT, NEED_INSTRUCTOR, api_assignment_update },
	{ "POST", "/assignments/#/submissions", OBJ_ASSIGNMENT, NEED_MEMBER, api_submission_create },
	{ "GET", "/assignments/#/submissions", OBJ_ASSIGNMENT, NEED_MEMBER, api_submissions_list },
	{ "GET", "/assignments/#/gradebook", OBJ_ASSIGNMENT, NEED_STAFF, api_gradebook },
	{ "GET", "/assignments/#/grades.csv", OBJ_ASSIGNMENT, NEED_STAFF, api_grades_csv },
	{ "POST", "/assignments/#/regrade", OBJ_ASSIGNMENT, NEED_STAFF, api_regrade_all },
	{ "GET", "/assignments/#/regrade", OBJ_ASSIGNMENT, NEED_STAFF, api_regrade_preview },
	{ "POST", "/assignments/#/regrade/apply", OBJ_ASSIGNMENT, NEED_STAFF, api_regrade_apply },
	{ "POST", "/assignments/#/choose", OBJ_ASSIGNMENT, NEED_STAFF, api_choose },
	{ "GET", "/submissions/#", OBJ_SUBMISSION, NEED_OWNER_OR_STAFF, api_submission_get },
	{ "GET", "/submissions/#/files", OBJ_SUBMISSION, NEED_OWNER_OR_STAFF, api_submission_files },
	{ "GET", "/submissions/#/log", OBJ_SUBMISSION, NEED_STAFF, api_submission_log },
	{ "POST", "/submissions/#/override", OBJ_SUBMISSION, NEED_STAFF, api_override },
	{ "POST", "/submissions/#/regrade", OBJ_SUBMISSION, NEED_STAFF, api_regrade_one },
};

/* Matches path against pattern; numbers for '#' go to ids. */
static bool match(const char *pattern, const char *path, int64_t ids[2])
{
	unsigned k = 0;

	while (*pattern && *path) {
		if (*pattern == '#') {
			char *end;

			if (!isdigit((unsigned char)*path) || k >= 2)
				return false;
			ids[k++] = strtoll(path, &end, 10);
			path = end;
			pattern++;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return !*pattern && (!*path || (path[0] == '?' ));
}

/* The object's course and facts; false when it does not exist. */
static bool load_object(struct req *r, enum object obj, bool *published)
{
	struct db_val v[] = { DB_INT(r->ids[0]) };
	json_t *row = NULL;

	*published = true;
	if (obj == OBJ_COURSE) {
		row = query_one(r, "SELECT id FROM courses WHERE id = ?", v, 1, "i:course_id");
	} else if (obj == OBJ_ASSIGNMENT) {
		row = query_one(r, "SELECT course_id, published, id FROM assignments WHERE id = ?", v, 1,
				"i:course_id b:published i:assignment_id");
	} else if (obj == OBJ_SUBMISSION) {
		row = query_one(r, "SELECT a.course_id, a.published, a.id, s.user_id, s.id "
				"FROM submissions s JOIN assignments a ON a.id = s.assignment_id "
				"WHERE s.id = ?", v, 1,
				"i:course_id b:published i:assignment_id i:owner_id i:submission_id");
	}
	if (!row)
		return false;
	r->course_id = json_integer_value(json_object_get(row, "course_id"));
	r->assignment_id = json_integer_value(json_object_get(row, "assignment_id"));
	r->owner_id = json_integer_value(json_object_get(row, "owner_id"));
	r->submission_id = json_integer_value(json_object_get(row, "submission_id"));
	if (json_object_get(row, "published"))
		*published = json_is_true(json_object_get(row, "published"));
	json_decref(row);
	return true;
}

static enum role role_in(struct req *r, int64_t course_id)
{
	struct db_val v[] = { DB_INT(course_id), DB_INT(r->user_id) };
	json_t *row = query_one(r, "SELECT role FROM enrollments WHERE course_id = ? AND user_id = ?",
				v, 2, "s:role");
	enum role role = row ? role_parse(json_string_value(json_object_get(row, "role"))) : ROLE_NONE;

	json_decref(row);
	return role;
}

/* The one authorization check (see routes.h); false when it answered. */
static bool authorize(struct req *r, const struct route *rt)
{
	bool published;
	int who;

	if (rt->need == NEED_PUBLIC)
		return true;
	who = auth_identify(r);
	if (who == -2) {
		reply_error(r, 403, "missing or wrong X-CSRF-Token header");
		return false;
	}
	if (who < 0) {
		reply_error(r, 401, "log in first");
		return false;
	}
	if (rt->obj == OBJ_NONE)
		return true;
	if (!load_object(r, rt->obj, &published) ||
	    (r->role = role_in(r, r->course_id)) == ROLE_NONE ||
	    (r->role == ROLE_STUDENT && !published) ||
	    (rt->need == NEED_OWNER_OR_STAFF && r->role == ROLE_STUDENT &&
	     r->owner_id != r->user_id)) {
		reply_error(r, 404, "not found");
		return false;
	}
	if ((rt->need == NEED_STAFF && r->role < ROLE_TA) ||
	    (rt->need == NEED_INSTRUCTOR && r->role < ROLE_INSTRUCTOR)) {
		reply_error(r, 403, "this needs the %s role in the course",
			    rt->need == NEED_STAFF ? "TA or instructor" : "instructor");
		return false;
	}
	return true;
}

void route_request(struct req *r)
{
	bool path_known = false;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int64_t ids[2] = { 0, 0 };

		if (!match(routes[i].pattern, r->path, ids))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, r->method) != 0)
			continue;
		memcpy(r->ids, ids, sizeof(ids));
		if (authorize(r, &routes[i]))
			routes[i].handler(r);
		return;
	}
	if (path_known)
		reply_error(r, 405, "%s is not allowed here", r->method);
	else
		reply_error(r, 404, "no such endpoint");
}
