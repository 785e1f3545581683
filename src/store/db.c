/* The driver-independent half of the SQL layer (see db.h). */
#include "db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int db_open(const char *url, struct db **out, struct lv_err *err)
{
	struct db *db = calloc(1, sizeof(*db));
	int rc;

	if (!db)
		return lv_err_sys(err, ENOMEM, "database");
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
		rc = db_postgres_open(url, db, err);
	else
		rc = db_sqlite_open(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, db, err);
	if (rc < 0) {
		free(db);
		return -1;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (db) {
		db->ops->close(db);
		free(db);
	}
}

enum db_kind db_kind(const struct db *db)
{
	return db->kind;
}

int db_query(struct db *db, const char *sql, const struct db_val *params, size_t n,
	     struct db_rows *rows, struct lv_err *err)
{
	if (rows)
		memset(rows, 0, sizeof(*rows));
	return db->ops->query(db, sql, params, n, rows, err);
}

int db_script(struct db *db, const char *sql, struct lv_err *err)
{
	return db->ops->script(db, sql, err);
}

int db_begin(struct db *db, struct lv_err *err)
{
	return db_script(db, db->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

int db_commit(struct db *db, struct lv_err *err)
{
	return db_script(db, "COMMIT", err);
}

void db_rollback(struct db *db)
{
	struct lv_err ignored;

	db_script(db, "ROLLBACK", &ignored);
}

int db_rows_add(struct db_rows *r, const char *data, size_t len, bool is_null)
{
	size_t i = r->ncells, cap = i + 1;
	char **cell = realloc(r->cell, cap * sizeof(*cell));
	size_t *lens;

	if (!cell)
		return -1;
	r->cell = cell;
	lens = realloc(r->len, cap * sizeof(*lens));
	if (!lens)
		return -1;
	r->len = lens;
	r->cell[i] = NULL;
	r->len[i] = 0;
	if (!is_null) {
		r->cell[i] = malloc(len + 1);
		if (!r->cell[i])
			return -1;
		memcpy(r->cell[i], data, len);
		r->cell[i][len] = '\0';
		r->len[i] = len;
	}
	r->ncells++;
	r->nrows = r->ncols ? r->ncells / r->ncols : 0;
	return 0;
}

int64_t db_cell_int(const struct db_rows *r, size_t row, size_t col)
{
	const char *c = db_cell(r, row, col);

	return c ? strtoll(c, NULL, 10) : 0;
}

double db_cell_real(const struct db_rows *r, size_t row, size_t col)
{
	const char *c = db_cell(r, row, col);

	return c ? strtod(c, NULL) : 0;
}

void db_rows_free(struct db_rows *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncells; i++)
		free(r->cell[i]);
	free(r->cell);
	free(r->len);
	memset(r, 0, sizeof(*r));
}
