/* The server's database connections (a pool, one per request thread) and
 * query results turned into JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

int db_pool_open(struct db_pool *p, const char *url, unsigned n, struct lv_err *err)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->conns = calloc(n, sizeof(*p->conns));
	p->busy = calloc(n, sizeof(*p->busy));
	if (!p->conns || !p->busy)
		return lv_err_set(err, "out of memory");
	for (p->n = 0; p->n < n; p->n++)
		if (db_open(url, &p->conns[p->n], err) < 0) {
			db_pool_close(p);
			return -1;
		}
	return 0;
}

struct db *db_pool_take(struct db_pool *p)
{
	struct db *db = NULL;

	pthread_mutex_lock(&p->lock);
	while (!db) {
		for (unsigned i = 0; i < p->n && !db; i++)
			if (!p->busy[i]) {
				p->busy[i] = true;
				db = p->conns[i];
			}
		if (!db)
			pthread_cond_wait(&p->freed, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return db;
}

void db_pool_give(struct db_pool *p, struct db *db)
{
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		if (p->conns[i] == db)
			p->busy[i] = false;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

void db_pool_close(struct db_pool *p)
{
	for (unsigned i = 0; i < p->n; i++)
		db_close(p->conns[i]);
	free(p->conns);
	free(p->busy);
	p->conns = NULL;
	p->busy = NULL;
	p->n = 0;
}

/* One cell as JSON, by its type letter: i integer, r real, s string, b boolean, j JSON text. */
static json_t *cell_json(char type, const char *v)
{
	if (!v)
		return json_null();
	switch (type) {
	case 'i': return json_integer(strtoll(v, NULL, 10));
	case 'r': return json_real(strtod(v, NULL));
	case 'b': return json_boolean(strcmp(v, "0") != 0 && strcmp(v, "f") != 0 && *v);
	case 'j': {
		json_t *j = json_loads(v, 0, NULL);

		return j ? j : json_null();
	}
	default: return json_string(v);
	}
}

json_t *rows_json(const struct db_rows *rows, const char *cols)
{
	json_t *arr = json_array();

	for (size_t r = 0; r < rows->nrows; r++) {
		json_t *o = json_object();
		const char *p = cols;

		for (size_t c = 0; c < rows->ncols && *p; c++) {
			char type = p[0], name[64];
			size_t n;

			p += 2;                         /* "x:" */
			n = strcspn(p, " ");
			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			p += n + (p[n] == ' ');
			json_object_set_new(o, name, cell_json(type, db_cell(rows, r, c)));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *query_json(struct req *r, const char *sql, const struct db_val *v, size_t n,
		   const char *cols)
{
	struct db_rows rows;
	struct lv_err err;
	json_t *j;

	if (db_query(r->db, sql, v, n, &rows, &err) < 0) {
		fprintf(stderr, "labvisor serve: %s\n", err.msg);
		return NULL;
	}
	j = rows_json(&rows, cols);
	db_rows_free(&rows);
	return j;
}

json_t *query_one(struct req *r, const char *sql, const struct db_val *v, size_t n,
		  const char *cols)
{
	json_t *all = query_json(r, sql, v, n, cols), *one;

	one = all && json_array_size(all) ? json_incref(json_array_get(all, 0)) : NULL;
	json_decref(all);
	return one;
}

const char *role_name(enum role role)
{
	static const char *const names[] = { "none", "student", "ta", "instructor" };

	return names[role];
}

enum role role_parse(const char *s)
{
	if (!s)
		return ROLE_NONE;
	if (strcmp(s, "student") == 0)
		return ROLE_STUDENT;
	if (strcmp(s, "ta") == 0)
		return ROLE_TA;
	if (strcmp(s, "instructor") == 0)
		return ROLE_INSTRUCTOR;
	return ROLE_NONE;
}
