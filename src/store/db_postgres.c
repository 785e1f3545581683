/*
 * PostgreSQL driver (libpq): `?` placeholders become $1, $2, ...; blobs go
 * as binary parameters and come back (bytea, text format) unescaped.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define BYTEAOID 17
#define MAX_PARAMS 32

/* "... ? ..." -> "... $1 ..." (placeholders inside quotes are left alone). */
static char *number_placeholders(const char *sql)
{
	size_t len = strlen(sql);
	char *out = malloc(len * 4 + 1), *o = out;
	bool quoted = false;
	int k = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p; p++) {
		if (*p == '\'')
			quoted = !quoted;
		if (*p == '?' && !quoted)
			o += sprintf(o, "$%d", ++k);
		else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

static int collect(PGresult *res, struct db_rows *rows)
{
	int nr = PQntuples(res), nc = PQnfields(res);

	rows->ncols = (size_t)nc;
	for (int r = 0; r < nr; r++)
		for (int c = 0; c < nc; c++) {
			bool null = PQgetisnull(res, r, c);
			const char *v = PQgetvalue(res, r, c);
			int rc;

			if (!null && PQftype(res, c) == BYTEAOID) {
				size_t n;
				unsigned char *b = PQunescapeBytea((const unsigned char *)v, &n);

				if (!b)
					return -1;
				rc = db_rows_add(rows, (const char *)b, n, false);
				PQfreemem(b);
			} else {
				rc = db_rows_add(rows, v, (size_t)PQgetlength(res, r, c), null);
			}
			if (rc < 0)
				return -1;
		}
	return 0;
}

static int pg_query(struct db *db, const char *sql, const struct db_val *p, size_t n,
		    struct db_rows *rows, struct lv_err *err)
{
	const char *values[MAX_PARAMS];
	int lengths[MAX_PARAMS], formats[MAX_PARAMS];
	char num[MAX_PARAMS][32];
	char *text = number_placeholders(sql);
	PGresult *res;
	int rc = 0;

	if (!text || n > MAX_PARAMS) {
		free(text);
		return lv_err_set(err, "postgres: query too large");
	}
	for (size_t i = 0; i < n; i++) {
		lengths[i] = 0;
		formats[i] = 0;
		switch (p[i].t) {
		case DBV_NULL: values[i] = NULL; break;
		case DBV_INT: snprintf(num[i], sizeof(num[i]), "%lld", (long long)p[i].i);
			values[i] = num[i]; break;
		case DBV_REAL: snprintf(num[i], sizeof(num[i]), "%.17g", p[i].d);
			values[i] = num[i]; break;
		case DBV_TEXT: values[i] = p[i].s; break;
		case DBV_BLOB: values[i] = p[i].s; lengths[i] = (int)p[i].len; formats[i] = 1; break;
		}
	}
	res = PQexecParams(db->conn, text, (int)n, NULL, values, lengths, formats, 0);
	free(text);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = lv_err_set(err, "postgres: %s", PQresultErrorMessage(res));
	else if (rows && collect(res, rows) < 0)
		rc = lv_err_set(err, "postgres: out of memory");
	if (rc < 0 && rows)
		db_rows_free(rows);
	PQclear(res);
	return rc;
}

static int pg_script(struct db *db, const char *sql, struct lv_err *err)
{
	PGresult *res = PQexec(db->conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = lv_err_set(err, "postgres: %s", PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

static void pg_close(struct db *db)
{
	PQfinish(db->conn);
}

static const struct db_ops postgres_ops = { pg_query, pg_script, pg_close };

int db_postgres_open(const char *url, struct db *db, struct lv_err *err)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK) {
		lv_err_set(err, "postgres: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	db->conn = c;
	db->kind = DB_POSTGRES;
	db->ops = &postgres_ops;
	return pg_script(db, "SET client_min_messages = warning", err);
}
