#include "yaml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ydoc_load(struct ydoc *d, const char *file, struct lv_err *err)
{
	yaml_parser_t p;
	FILE *f = fopen(file, "rb");
	int rc = 0;

	d->file = file;
	d->loaded = false;
	if (!f)
		return lv_err_sys(err, errno, "%s", file);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d->doc)) {
		rc = lv_err_set(err, "%s:%zu:%zu: %s%s%s", file, p.problem_mark.line + 1,
				p.problem_mark.column + 1, p.problem ? p.problem : "malformed YAML",
				p.context ? " " : "", p.context ? p.context : "");
	} else if (!yaml_document_get_root_node(&d->doc)) {
		yaml_document_delete(&d->doc);
		rc = lv_err_set(err, "%s: the file is empty", file);
	} else {
		d->loaded = true;
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

void ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = false;
}

struct ynode ydoc_root(struct ydoc *d)
{
	struct ynode r = { .d = d, .n = yaml_document_get_root_node(&d->doc) };

	snprintf(r.path, sizeof(r.path), "(top level)");
	return r;
}

int ynode_error(const struct ynode *n, struct lv_err *err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n->n)
		return lv_err_set(err, "%s:%zu:%zu: %s: %s", n->d->file, n->n->start_mark.line + 1,
				  n->n->start_mark.column + 1, n->path, what);
	return lv_err_set(err, "%s: %s: %s", n->d->file, n->path, what);
}

bool ynode_is_map(const struct ynode *n)
{
	return n->n && n->n->type == YAML_MAPPING_NODE;
}

bool ynode_is_seq(const struct ynode *n)
{
	return n->n && n->n->type == YAML_SEQUENCE_NODE;
}

size_t ynode_len(const struct ynode *n)
{
	if (!ynode_is_seq(n))
		return 0;
	return (size_t)(n->n->data.sequence.items.top - n->n->data.sequence.items.start);
}

struct ynode ynode_item(const struct ynode *n, size_t i)
{
	struct ynode r = { .d = n->d };

	r.n = yaml_document_get_node(&n->d->doc, n->n->data.sequence.items.start[i]);
	snprintf(r.path, sizeof(r.path), "%.200s[%zu]", n->path, i + 1);
	return r;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

struct ynode ynode_get(const struct ynode *n, const char *key)
{
	struct ynode r = { .d = n->d };

	if (strcmp(n->path, "(top level)") == 0)
		snprintf(r.path, sizeof(r.path), "%s", key);
	else
		snprintf(r.path, sizeof(r.path), "%.200s.%.40s", n->path, key);
	if (!ynode_is_map(n))
		return r;
	for (yaml_node_pair_t *p = n->n->data.mapping.pairs.start; p < n->n->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(&n->d->doc, p->key));

		if (k && strcmp(k, key) == 0) {
			r.n = yaml_document_get_node(&n->d->doc, p->value);
			break;
		}
	}
	return r;
}

int ynode_check_keys(const struct ynode *n, const char *const known[], struct lv_err *err)
{
	if (!ynode_is_map(n))
		return ynode_error(n, err, "expected a mapping of fields");
	for (yaml_node_pair_t *p = n->n->data.mapping.pairs.start; p < n->n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&n->d->doc, p->key);
		const char *k = scalar(kn);
		bool ok = false;

		for (unsigned i = 0; k && known[i] && !ok; i++)
			ok = strcmp(k, known[i]) == 0;
		if (!ok) {
			struct ynode at = { .d = n->d, .n = kn };
			char list[300] = "";

			for (unsigned i = 0; known[i]; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", known[i]);
			snprintf(at.path, sizeof(at.path), "%s", n->path);
			return ynode_error(&at, err, "unknown field '%s' (expected one of: %s)",
					   k ? k : "?", list);
		}
	}
	return 0;
}

static int absent(const struct ynode *n, bool required, struct lv_err *err)
{
	return required ? ynode_error(n, err, "missing (required)") : 1;
}

int ynode_str(const struct ynode *n, bool required, char **out, struct lv_err *err)
{
	const char *s;

	if (!n->n)
		return absent(n, required, err) < 0 ? -1 : 0;
	s = scalar(n->n);
	if (!s)
		return ynode_error(n, err, "expected a string");
	free(*out);
	*out = strdup(s);
	return 0;
}

int ynode_num(const struct ynode *n, bool required, double min, double max, double *out,
	      struct lv_err *err)
{
	const char *s;
	char *end;
	double v;

	if (!n->n)
		return absent(n, required, err) < 0 ? -1 : 0;
	s = scalar(n->n);
	if (!s)
		return ynode_error(n, err, "expected a number");
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return ynode_error(n, err, "expected a number, got '%s'", s);
	if (v < min || v > max)
		return ynode_error(n, err, "expected a number from %g to %g, got %g", min, max, v);
	*out = v;
	return 0;
}

int ynode_bool(const struct ynode *n, bool required, bool *out, struct lv_err *err)
{
	const char *s;

	if (!n->n)
		return absent(n, required, err) < 0 ? -1 : 0;
	s = scalar(n->n);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes")))
		*out = true;
	else if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no")))
		*out = false;
	else
		return ynode_error(n, err, "expected true or false");
	return 0;
}

int ynode_choice(const struct ynode *n, bool required, const char *const words[], int *out,
		 struct lv_err *err)
{
	const char *s;
	char list[300] = "";

	if (!n->n)
		return absent(n, required, err) < 0 ? -1 : 0;
	s = scalar(n->n);
	for (int i = 0; s && words[i]; i++) {
		if (strcmp(s, words[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	for (unsigned i = 0; words[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 words[i]);
	return ynode_error(n, err, "expected one of %s, got '%s'", list, s ? s : "(not a word)");
}

int ynode_str_list(const struct ynode *n, char ***out, struct lv_err *err)
{
	size_t count = ynode_is_seq(n) ? ynode_len(n) : 1;
	char **list;

	if (!n->n)
		return 0;
	list = calloc(count + 1, sizeof(*list));
	if (!list)
		return lv_err_sys(err, ENOMEM, "%s", n->path);
	for (size_t i = 0; i < count; i++) {
		struct ynode item = ynode_is_seq(n) ? ynode_item(n, i) : *n;

		if (ynode_str(&item, true, &list[i], err) < 0) {
			for (size_t j = 0; j < i; j++)
				free(list[j]);
			free(list);
			return -1;
		}
	}
	*out = list;
	return 0;
}
