/*
 * libserver: `labvisor serve` — the HTTP JSON API and the static web UI over
 * the store.  http.c runs libmicrohttpd and routes each request; the route
 * table (routes.c) names, for every endpoint, the object it is about and the
 * role it needs, and authorize() in access.c is the one place that decides;
 * handlers in api_*.c then do the work.
 */
#ifndef LV_SERVER_H
#define LV_SERVER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct server_config {
	const char *db_url;
	const char *listen_addr;        /* "127.0.0.1" */
	unsigned port;
	const char *web_dir;            /* static files of the UI */
	unsigned threads;
	bool secure_cookies;            /* add Secure (behind HTTPS) */
};

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct db **conns;
	bool *busy;
	unsigned n;
};

/* Failed logins per client address, for rate limiting (auth.c). */
struct login_limiter {
	pthread_mutex_t lock;
	struct { char key[96]; int64_t window_ms; unsigned failures; } slot[256];
};

struct server {
	struct server_config cfg;
	struct db_pool pool;
	struct login_limiter limiter;
	struct MHD_Daemon *daemon;
};

enum role { ROLE_NONE, ROLE_STUDENT, ROLE_TA, ROLE_INSTRUCTOR };

/* One uploaded form field or file. */
struct form_part {
	char *name, *filename;
	char *data;
	size_t len;
};

/* One request, from the router to a handler. */
struct req {
	struct server *srv;
	struct db *db;
	const char *method, *path;
	struct MHD_Connection *conn;
	const char *body;               /* JSON or CSV bodies (NUL-terminated) */
	size_t body_len;
	struct form_part *parts;        /* multipart/form-data */
	size_t nparts;
	int64_t ids[2];                 /* numbers in the path, in order */
	/* who asks, and what authorize() found out */
	int64_t user_id;
	bool via_token;                 /* API token: no CSRF check needed */
	bool can_create_courses;
	enum role role;                 /* in the course the object belongs to */
	int64_t course_id, assignment_id, submission_id, owner_id;
	/* the answer */
	unsigned status;
	json_t *json;
	char *text;                     /* a non-JSON answer (CSV) */
	const char *content_type;
	char *set_cookie;
	const char *disposition;        /* Content-Disposition, for downloads */
};

int server_start(struct server *s, const struct server_config *cfg, struct lv_err *err);
void server_stop(struct server *s);

/* The pool (one connection per thread that handles requests). */
int db_pool_open(struct db_pool *p, const char *url, unsigned n, struct lv_err *err);
struct db *db_pool_take(struct db_pool *p);
void db_pool_give(struct db_pool *p, struct db *db);
void db_pool_close(struct db_pool *p);

/* Answers (a handler sets exactly one). */
void reply_json(struct req *r, unsigned status, json_t *j);
void reply_error(struct req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void reply_text(struct req *r, unsigned status, const char *type, char *text);

/* Request helpers. */
json_t *req_json(struct req *r);        /* the body parsed, or NULL (answered 400) */
const struct form_part *req_part(const struct req *r, const char *name);
const char *req_header(const struct req *r, const char *name);
const char *req_arg(const struct req *r, const char *name);

/* A query's rows as a JSON array of objects: cols is "i:id s:title r:score b:flag ..." */
json_t *rows_json(const struct db_rows *rows, const char *cols);
json_t *query_json(struct req *r, const char *sql, const struct db_val *v, size_t n,
		   const char *cols);
json_t *query_one(struct req *r, const char *sql, const struct db_val *v, size_t n,
		  const char *cols);

const char *role_name(enum role role);
enum role role_parse(const char *s);

#endif
