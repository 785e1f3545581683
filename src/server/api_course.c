/* Accounts, API tokens, courses and their members. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth.h"
#include "routes.h"

void api_me(struct req *r)
{
	struct db_val v[] = { DB_INT(r->user_id) };
	json_t *me = query_one(r, "SELECT id, email, name, can_create_courses FROM users WHERE id = ?",
			       v, 1, "i:id s:email s:name b:can_create_courses");

	if (!me)
		return reply_error(r, 404, "no such user");
	json_object_set_new(me, "courses", query_json(r,
		"SELECT c.id, c.code, c.title, e.role FROM enrollments e JOIN courses c "
		"ON c.id = e.course_id WHERE e.user_id = ? ORDER BY c.code", v, 1,
		"i:id s:code s:title s:role"));
	reply_json(r, 200, me);
}

void api_token_create(struct req *r)
{
	json_t *body = req_json(r);
	const char *name;
	char token[65], h[65];
	struct lv_err err;

	if (!body)
		return;
	name = json_string_value(json_object_get(body, "name"));
	auth_new_token(token);
	auth_token_hash(token, h);
	if (db_query(r->db, "INSERT INTO api_tokens (token_hash, user_id, name, created_ms) "
		     "VALUES (?, ?, ?, ?)", (struct db_val[]){ DB_TEXT(h), DB_INT(r->user_id),
		     DB_TEXT(name ? name : "token"), DB_INT(store_now_ms()) }, 4, NULL, &err) < 0)
		reply_error(r, 500, "could not store the token");
	else
		reply_json(r, 201, json_pack("{s:s, s:s}", "token", token, "use",
					     "Authorization: Bearer <token>"));
	json_decref(body);
}

void api_course_create(struct req *r)
{
	json_t *body;
	const char *code, *title;
	int64_t id;
	struct lv_err err;

	if (!r->can_create_courses)
		return reply_error(r, 403, "your account may not create courses");
	if (!(body = req_json(r)))
		return;
	code = json_string_value(json_object_get(body, "code"));
	title = json_string_value(json_object_get(body, "title"));
	if (!code || !*code || !title || !*title) {
		reply_error(r, 400, "code and title are required");
	} else if ((id = course_create(r->db, code, title, r->user_id, &err)) < 0) {
		reply_error(r, 409, "%s", err.msg);
	} else {
		reply_json(r, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "code", code,
					     "title", title));
	}
	json_decref(body);
}

void api_course_get(struct req *r)
{
	struct db_val v[] = { DB_INT(r->course_id) };
	json_t *c = query_one(r, "SELECT id, code, title FROM courses WHERE id = ?", v, 1,
			      "i:id s:code s:title");

	if (!c)
		return reply_error(r, 404, "not found");
	json_object_set_new(c, "role", json_string(role_name(r->role)));
	json_object_set_new(c, "assignments", query_json(r,
		r->role == ROLE_STUDENT
		? "SELECT id, title, points, deadline_ms, published, grades_published, state "
		  "FROM assignments WHERE course_id = ? AND published = 1 ORDER BY id"
		: "SELECT id, title, points, deadline_ms, published, grades_published, state "
		  "FROM assignments WHERE course_id = ? ORDER BY id",
		v, 1, "i:id s:title r:points i:deadline_ms b:published b:grades_published s:state"));
	reply_json(r, 200, c);
}

void api_members_list(struct req *r)
{
	struct db_val v[] = { DB_INT(r->course_id) };

	reply_json(r, 200, query_json(r, "SELECT u.id, u.email, u.name, e.role FROM enrollments e "
				      "JOIN users u ON u.id = e.user_id WHERE e.course_id = ? "
				      "ORDER BY e.role, u.name", v, 1, "i:id s:email s:name s:role"));
}

void api_member_add(struct req *r)
{
	json_t *body = req_json(r);
	struct member m;
	struct lv_err err;

	if (!body)
		return;
	m = (struct member){
		.email = json_string_value(json_object_get(body, "email")),
		.name = json_string_value(json_object_get(body, "name")),
		.role = json_string_value(json_object_get(body, "role")),
		.password = json_string_value(json_object_get(body, "password")),
	};
	if (enrol(r->db, r->course_id, &m, &err) < 0)
		reply_error(r, 400, "%s", err.msg);
	else
		reply_json(r, 201, json_pack("{s:I, s:s}", "user_id", (json_int_t)m.user_id,
					     "role", m.role));
	json_decref(body);
}

/* CSV: email,name,role[,password] per line; a header line is skipped. */
void api_members_csv(struct req *r)
{
	char *text = strndup(r->body ? r->body : "", r->body_len), *save = NULL, *line;
	json_t *errors = json_array();
	unsigned added = 0, lineno = 0;
	struct lv_err err;

	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *f[4] = { 0 }, *p = line;

		lineno++;
		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, ',');
			if (p)
				*p++ = '\0';
		}
		if (lineno == 1 && f[0] && strcmp(f[0], "email") == 0)
			continue;
		struct member m = { .email = f[0], .name = f[1], .role = f[2], .password = f[3] };

		if (enrol(r->db, r->course_id, &m, &err) < 0)
			json_array_append_new(errors, json_pack("{s:i, s:s}", "line", lineno,
								"error", err.msg));
		else
			added++;
	}
	free(text);
	reply_json(r, json_array_size(errors) ? 400 : 200,
		   json_pack("{s:i, s:o}", "enrolled", added, "errors", errors));
}
