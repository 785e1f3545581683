/*
 * A parsed YAML file with lookups that report precise errors: every error
 * names the file, the line and column, the field path and what was expected
 * ("assignment.yaml:12:5: tests[2].points: expected a number, got 'ten'").
 */
#ifndef LV_GRADE_YAML_DOC_H
#define LV_GRADE_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "util/err.h"

struct ydoc {
	const char *file;
	yaml_document_t doc;
	bool loaded;
};

/* A node and the field path that led to it, for messages. */
struct ynode {
	struct ydoc *d;
	yaml_node_t *n;         /* NULL: absent */
	char path[256];
};

int ydoc_load(struct ydoc *d, const char *file, struct lv_err *err);
void ydoc_free(struct ydoc *d);
struct ynode ydoc_root(struct ydoc *d);

bool ynode_is_map(const struct ynode *n);
bool ynode_is_seq(const struct ynode *n);
size_t ynode_len(const struct ynode *n);                     /* sequence length */
struct ynode ynode_item(const struct ynode *n, size_t i);    /* sequence item */
struct ynode ynode_get(const struct ynode *n, const char *key);  /* absent: .n == NULL */

/* Fails on keys not in `known` (NULL-terminated): catches typos. */
int ynode_check_keys(const struct ynode *n, const char *const known[], struct lv_err *err);

/* Typed reads; `required` false leaves *out untouched when absent. */
int ynode_str(const struct ynode *n, bool required, char **out, struct lv_err *err);
int ynode_num(const struct ynode *n, bool required, double min, double max, double *out,
	      struct lv_err *err);
int ynode_bool(const struct ynode *n, bool required, bool *out, struct lv_err *err);
int ynode_choice(const struct ynode *n, bool required, const char *const words[], int *out,
		 struct lv_err *err);
/* A string or a sequence of strings, as a NULL-terminated array. */
int ynode_str_list(const struct ynode *n, char ***out, struct lv_err *err);

/* An error at n (or at its parent position when n is absent). */
int ynode_error(const struct ynode *n, struct lv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
