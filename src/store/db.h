/*
 * The SQL driver under the store: one small interface, two implementations
 * (db_sqlite.c, db_postgres.c).  The store writes its SQL once, with `?`
 * placeholders (the PostgreSQL driver numbers them $1, $2, ...), values
 * passed as typed parameters and rows read back as text (blobs as bytes).
 * A connection is used by one thread at a time.
 */
#ifndef LV_STORE_DB_H
#define LV_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum db_kind { DB_SQLITE, DB_POSTGRES };

struct db;

enum db_type { DBV_NULL, DBV_INT, DBV_TEXT, DBV_BLOB, DBV_REAL };

struct db_val {
	enum db_type t;
	int64_t i;
	double d;
	const char *s;          /* DBV_TEXT (NUL-terminated) or DBV_BLOB (len bytes) */
	size_t len;
};

#define DB_INT(x) ((struct db_val){ .t = DBV_INT, .i = (int64_t)(x) })
#define DB_REAL(x) ((struct db_val){ .t = DBV_REAL, .d = (double)(x) })
/* Text; a NULL pointer is SQL NULL. */
static inline struct db_val db_text(const char *s)
{
	return s ? (struct db_val){ .t = DBV_TEXT, .s = s } : (struct db_val){ .t = DBV_NULL };
}
#define DB_TEXT(x) db_text(x)
#define DB_BLOB(p, n) ((struct db_val){ .t = DBV_BLOB, .s = (const char *)(p), .len = (n) })
#define DB_NULL ((struct db_val){ .t = DBV_NULL })

/* A query's result: rows x cols cells, each NULL (SQL NULL) or a
 * NUL-terminated copy (blobs: len bytes plus a NUL). */
struct db_rows {
	size_t nrows, ncols;
	char **cell;
	size_t *len;
	size_t ncells;          /* drivers: cells added so far */
};

static inline const char *db_cell(const struct db_rows *r, size_t row, size_t col)
{
	return row < r->nrows && col < r->ncols ? r->cell[row * r->ncols + col] : NULL;
}
int64_t db_cell_int(const struct db_rows *r, size_t row, size_t col);
double db_cell_real(const struct db_rows *r, size_t row, size_t col);
void db_rows_free(struct db_rows *r);

/*
 * Opens "sqlite:PATH", a plain PATH (SQLite), or "postgres://..." /
 * "postgresql://..." (libpq connection URI).
 */
int db_open(const char *url, struct db **out, struct lv_err *err);
void db_close(struct db *db);
enum db_kind db_kind(const struct db *db);

/* Runs sql with n parameters; rows (may be NULL) receives what it returns. */
int db_query(struct db *db, const char *sql, const struct db_val *params, size_t n,
	     struct db_rows *rows, struct lv_err *err);
/* Several statements without parameters (migrations). */
int db_script(struct db *db, const char *sql, struct lv_err *err);

/* Transactions: begin is IMMEDIATE on SQLite (takes the write lock at once). */
int db_begin(struct db *db, struct lv_err *err);
int db_commit(struct db *db, struct lv_err *err);
void db_rollback(struct db *db);

/* Driver entry points (db.c dispatches on the URL). */
struct db_ops {
	int (*query)(struct db *db, const char *sql, const struct db_val *params, size_t n,
		     struct db_rows *rows, struct lv_err *err);
	int (*script)(struct db *db, const char *sql, struct lv_err *err);
	void (*close)(struct db *db);
};

struct db {
	const struct db_ops *ops;
	enum db_kind kind;
	void *conn;
};

int db_sqlite_open(const char *path, struct db *db, struct lv_err *err);
int db_postgres_open(const char *url, struct db *db, struct lv_err *err);

/* Appends a cell to rows, row after row (drivers' helper). */
int db_rows_add(struct db_rows *r, const char *data, size_t len, bool is_null);

#endif
