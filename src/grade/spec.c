/* assignment.yaml: parsing and validation (format: docs/assignment-format.md). */
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "yaml_doc.h"

static const char *const vis_names[] = { "visible", "hidden", "after_due_date",
					 "after_published", NULL };

const char *visibility_name(enum visibility v)
{
	return vis_names[v];
}

static const struct limits default_limits = {
	.time = 2, .wall = 10, .memory_mib = 256, .processes = 32, .output_kib = 1024,
};
static const struct limits default_build_limits = {
	.time = 60, .wall = 120, .memory_mib = 1024, .processes = 64, .output_kib = 1024,
};

/* A whole-number limit, kept as it is when absent. */
static int parse_count(struct ynode *n, const char *key, double min, double max, unsigned *out,
		       struct lv_err *err)
{
	struct ynode f = ynode_get(n, key);
	double v = *out;

	if (ynode_num(&f, false, min, max, &v, err) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_limits(struct ynode *n, struct limits *l, struct lv_err *err)
{
	static const char *const keys[] = { "time", "wall", "memory_mib", "processes",
					    "output_kib", NULL };
	struct ynode time = ynode_get(n, "time"), wall = ynode_get(n, "wall");

	if (!n->n)
		return 0;
	if (ynode_check_keys(n, keys, err) < 0 ||
	    ynode_num(&time, false, 0.001, 3600, &l->time, err) < 0 ||
	    ynode_num(&wall, false, 0.001, 36000, &l->wall, err) < 0 ||
	    parse_count(n, "memory_mib", 4, 65536, &l->memory_mib, err) < 0 ||
	    parse_count(n, "processes", 1, 4096, &l->processes, err) < 0)
		return -1;
	return parse_count(n, "output_kib", 1, 1 << 20, &l->output_kib, err);
}

/* A path of the assignment: relative, no "..", and the file must exist. */
static int check_asset(const struct assignment *a, struct ynode *n, const char *rel,
		       struct lv_err *err)
{
	char path[PATH_MAX * 2];

	if (rel[0] == '/' || strstr(rel, "..") || rel[0] == '\0')
		return ynode_error(n, err, "'%s' must be a path inside the assignment folder", rel);
	snprintf(path, sizeof(path), "%s/%s", a->dir, rel);
	if (access(path, R_OK) != 0)
		return ynode_error(n, err, "'%s' does not exist in the assignment folder", rel);
	return 0;
}

/* `key` inline or `key_file` from the assignment. */
static int parse_expected(struct assignment *a, struct ynode *t, const char *key,
			  struct expected *e, struct lv_err *err)
{
	char fkey[64];
	struct ynode inl = ynode_get(t, key), file;

	snprintf(fkey, sizeof(fkey), "%s_file", key);
	file = ynode_get(t, fkey);
	if (inl.n && file.n)
		return ynode_error(&file, err, "give %s or %s, not both", key, fkey);
	if (ynode_str(&inl, false, &e->text, err) < 0 || ynode_str(&file, false, &e->file, err) < 0)
		return -1;
	if (e->file && check_asset(a, &file, e->file, err) < 0)
		return -1;
	e->set = inl.n || file.n;
	return 0;
}

static int parse_assets(struct assignment *a, struct ynode *n, char ***out, struct lv_err *err)
{
	if (ynode_str_list(n, out, err) < 0)
		return -1;
	for (size_t i = 0; *out && (*out)[i]; i++)
		if (check_asset(a, n, (*out)[i], err) < 0)
			return -1;
	return 0;
}

static int parse_io(struct assignment *a, struct ynode *t, struct test *x, struct lv_err *err)
{
	static const char *const modes[] = { "exact", "trailing_whitespace", "ignore_case",
					     "regex", "numbers", NULL };
	struct ynode f = ynode_get(t, "compare");
	int mode = CMP_TRAILING_WS;
	double code = 0;

	if (ynode_choice(&f, false, modes, &mode, err) < 0)
		return -1;
	x->compare = (enum cmp_mode)mode;
	f = ynode_get(t, "tolerance");
	x->tolerance = 1e-6;
	if (ynode_num(&f, false, 0, 1e12, &x->tolerance, err) < 0)
		return -1;
	if (parse_expected(a, t, "stdout", &x->out, err) < 0 ||
	    parse_expected(a, t, "stderr", &x->err, err) < 0)
		return -1;
	f = ynode_get(t, "exit_code");
	if (ynode_num(&f, false, 0, 255, &code, err) < 0)
		return -1;
	x->exit_set = f.n != NULL;
	x->exit_code = (int)code;
	if (!x->out.set && !x->err.set && !x->exit_set)
		return ynode_error(t, err, "an io test must check stdout, stderr or exit_code");
	return 0;
}

static int parse_checker(struct assignment *a, struct ynode *t, struct test *x, struct lv_err *err)
{
	struct ynode f = ynode_get(t, "checker");

	if (ynode_str(&f, true, &x->checker, err) < 0 || check_asset(a, &f, x->checker, err) < 0)
		return -1;
	return parse_expected(a, t, "expected", &x->checker_data, err);
}

static int parse_cases(struct ynode *n, struct test *x, struct lv_err *err)
{
	if (!n->n)
		return 0;
	if (!ynode_is_map(n))
		return ynode_error(n, err, "expected a mapping of case name to points");
	x->ncases = (size_t)(n->n->data.mapping.pairs.top - n->n->data.mapping.pairs.start);
	x->cases = calloc(x->ncases, sizeof(*x->cases));
	if (!x->cases)
		return lv_err_sys(err, ENOMEM, "cases");
	for (size_t i = 0; i < x->ncases; i++) {
		yaml_node_pair_t *p = &n->n->data.mapping.pairs.start[i];
		yaml_node_t *k = yaml_document_get_node(&n->d->doc, p->key);
		struct ynode v = { .d = n->d, .n = yaml_document_get_node(&n->d->doc, p->value) };

		if (k->type != YAML_SCALAR_NODE)
			return ynode_error(n, err, "case names must be strings");
		x->cases[i].name = strdup((const char *)k->data.scalar.value);
		snprintf(v.path, sizeof(v.path), "%.120s.%.120s", n->path, x->cases[i].name);
		if (ynode_num(&v, true, 0, 1e6, &x->cases[i].points, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_framework(struct ynode *t, struct test *x, struct lv_err *err)
{
	static const char *const formats[] = { "tap", "junit", NULL };
	struct ynode f = ynode_get(t, "format");
	int fmt = FW_TAP;
	double sum = 0;

	if (ynode_choice(&f, true, formats, &fmt, err) < 0)
		return -1;
	x->format = (enum fw_format)fmt;
	f = ynode_get(t, "results");
	if (ynode_str(&f, x->format == FW_JUNIT, &x->results, err) < 0)
		return -1;
	if (x->results && (x->results[0] == '/' || strstr(x->results, "..")))
		return ynode_error(&f, err, "must be a path inside the work directory");
	f = ynode_get(t, "cases");
	if (parse_cases(&f, x, err) < 0)
		return -1;
	for (size_t i = 0; i < x->ncases; i++)
		sum += x->cases[i].points;
	if (x->ncases && (sum < x->points - 1e-9 || sum > x->points + 1e-9))
		return ynode_error(&f, err, "the cases add up to %g points, the test has %g", sum,
				   x->points);
	return 0;
}

static int parse_test(struct assignment *a, struct ynode *t, struct test *x, struct lv_err *err)
{
	static const char *const keys[] = {
		"name", "points", "visibility", "group", "limits", "kind", "command", "stdin",
		"stdin_file", "files", "stdout", "stdout_file", "stderr", "stderr_file",
		"exit_code", "compare", "tolerance", "checker", "expected", "expected_file",
		"format", "results", "cases", NULL,
	};
	static const char *const kinds[] = { "io", "checker", "framework", NULL };
	struct ynode f;
	int kind = 0, vis = VIS_VISIBLE;

	if (ynode_check_keys(t, keys, err) < 0)
		return -1;
	x->line = (int)t->n->start_mark.line + 1;
	x->limits = a->limits;
	f = ynode_get(t, "name");
	if (ynode_str(&f, true, &x->name, err) < 0)
		return -1;
	f = ynode_get(t, "points");
	if (ynode_num(&f, true, 0, 1e6, &x->points, err) < 0)
		return -1;
	f = ynode_get(t, "visibility");
	if (ynode_choice(&f, false, vis_names, &vis, err) < 0)
		return -1;
	x->vis = (enum visibility)vis;
	f = ynode_get(t, "group");
	if (ynode_str(&f, false, &x->group, err) < 0)
		return -1;
	f = ynode_get(t, "limits");
	if (parse_limits(&f, &x->limits, err) < 0)
		return -1;
	f = ynode_get(t, "kind");
	if (ynode_choice(&f, true, kinds, &kind, err) < 0)
		return -1;
	x->kind = (enum test_kind)kind;
	f = ynode_get(t, "command");
	if (ynode_str(&f, true, &x->command, err) < 0)
		return -1;
	f = ynode_get(t, "files");
	if (parse_expected(a, t, "stdin", &x->stdin_data, err) < 0 || parse_assets(a, &f, &x->files, err) < 0)
		return -1;
	switch (x->kind) {
	case TEST_IO:       return parse_io(a, t, x, err);
	case TEST_CHECKER:  return parse_checker(a, t, x, err);
	default:            return parse_framework(t, x, err);
	}
}

static int parse_tests(struct assignment *a, struct ynode *root, struct lv_err *err)
{
	struct ynode tests = ynode_get(root, "tests");
	double sum = 0;

	if (!ynode_is_seq(&tests) || ynode_len(&tests) == 0)
		return ynode_error(&tests, err, "expected a list of at least one test");
	a->ntests = ynode_len(&tests);
	a->tests = calloc(a->ntests, sizeof(*a->tests));
	if (!a->tests)
		return lv_err_sys(err, ENOMEM, "tests");
	for (size_t i = 0; i < a->ntests; i++) {
		struct ynode t = ynode_item(&tests, i);

		if (parse_test(a, &t, &a->tests[i], err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->tests[j].name, a->tests[i].name) == 0)
				return ynode_error(&t, err, "a second test named '%s'", a->tests[i].name);
		sum += a->tests[i].points;
	}
	if (a->points == 0)
		a->points = sum;
	else if (sum < a->points - 1e-9 || sum > a->points + 1e-9)
		return ynode_error(&tests, err, "the tests add up to %g points, the assignment has %g",
				   sum, a->points);
	return 0;
}

/* "2026-12-01T23:59:00Z" or "...+02:00" */
static int parse_deadline(struct ynode *n, time_t *out, struct lv_err *err)
{
	char *s = NULL, sign;
	struct tm tm = { 0 };
	int oh = 0, om = 0, rc = 0;
	const char *rest;

	if (ynode_str(n, false, &s, err) < 0 || !s)
		return s ? -1 : 0;
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest || !(strcmp(rest, "Z") == 0 ||
		       (sscanf(rest, "%c%2d:%2d", &sign, &oh, &om) == 3 && (sign == '+' || sign == '-'))))
		rc = ynode_error(n, err, "expected a time like 2026-12-01T23:59:00Z, got '%s'", s);
	else
		*out = timegm(&tm) - (rest[0] == 'Z' ? 0 : (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60));
	free(s);
	return rc;
}

static int parse_metadata(struct assignment *a, struct ynode *root, struct lv_err *err)
{
	static const char *const sub_keys[] = { "required", "optional", "max_size_kib", NULL };
	static const char *const late_keys[] = { "penalty_per_day", "cutoff_days", NULL };
	struct ynode f = ynode_get(root, "title"), sub, late;
	double kib = 1024;

	if (ynode_str(&f, true, &a->title, err) < 0)
		return -1;
	f = ynode_get(root, "points");
	if (ynode_num(&f, false, 0, 1e6, &a->points, err) < 0)
		return -1;
	f = ynode_get(root, "deadline");
	if (parse_deadline(&f, &a->deadline, err) < 0)
		return -1;
	late = ynode_get(root, "late_policy");
	if (late.n) {
		if (ynode_check_keys(&late, late_keys, err) < 0)
			return -1;
		f = ynode_get(&late, "penalty_per_day");
		if (ynode_num(&f, true, 0, 100, &a->late_penalty_pct_per_day, err) < 0)
			return -1;
		f = ynode_get(&late, "cutoff_days");
		if (ynode_num(&f, false, 0, 365, &a->late_cutoff_days, err) < 0)
			return -1;
	}
	sub = ynode_get(root, "submission");
	if (sub.n && ynode_check_keys(&sub, sub_keys, err) < 0)
		return -1;
	f = ynode_get(&sub, "required");
	if (ynode_str_list(&f, &a->required, err) < 0)
		return -1;
	f = ynode_get(&sub, "optional");
	if (ynode_str_list(&f, &a->optional, err) < 0)
		return -1;
	f = ynode_get(&sub, "max_size_kib");
	if (ynode_num(&f, false, 1, 1 << 22, &kib, err) < 0)
		return -1;
	a->max_submission_kib = (unsigned long)kib;
	return 0;
}

static int parse_environment(struct assignment *a, struct ynode *root, struct lv_err *err)
{
	static const char *const keys[] = { "root", "setup", "files", "build", "limits",
					    "build_limits", NULL };
	struct ynode env = ynode_get(root, "environment"), f;

	a->limits = default_limits;
	a->build_limits = default_build_limits;
	if (!env.n)
		return 0;
	if (ynode_check_keys(&env, keys, err) < 0)
		return -1;
	f = ynode_get(&env, "setup");
	if (ynode_str(&f, false, &a->setup, err) < 0 ||
	    (a->setup && (check_asset(a, &f, a->setup, err) < 0)))
		return -1;
	f = ynode_get(&env, "root");
	if (ynode_str(&f, false, &a->root, err) < 0)
		return -1;
	if (a->root && strcmp(a->root, "host") == 0) {
		free(a->root);
		a->root = NULL;
	} else if ((a->root && strcmp(a->root, "debian-12") == 0) || (!a->root && a->setup)) {
		free(a->root);
		a->root = NULL;
		a->image = true;
	} else if (a->root && check_asset(a, &f, a->root, err) < 0) {
		return -1;
	}
	if (a->setup && !a->image)
		return ynode_error(&f, err, "a setup script builds on the debian-12 image: leave "
				   "root out or set it to debian-12");
	f = ynode_get(&env, "files");
	if (parse_assets(a, &f, &a->env_files, err) < 0)
		return -1;
	f = ynode_get(&env, "build");
	if (ynode_str(&f, false, &a->build, err) < 0)
		return -1;
	f = ynode_get(&env, "limits");
	if (parse_limits(&f, &a->limits, err) < 0)
		return -1;
	f = ynode_get(&env, "build_limits");
	return parse_limits(&f, &a->build_limits, err);
}

static int load_yaml(struct assignment *a, const char *file, struct lv_err *err)
{
	static const char *const keys[] = { "title", "points", "deadline", "late_policy",
					    "submission", "environment", "tests", NULL };
	struct ydoc d;
	struct ynode root;
	int rc;

	if (ydoc_load(&d, file, err) < 0)
		return -1;
	root = ydoc_root(&d);
	rc = ynode_check_keys(&root, keys, err);
	if (rc == 0)
		rc = parse_metadata(a, &root, err);
	if (rc == 0)
		rc = parse_environment(a, &root, err);
	if (rc == 0)
		rc = parse_tests(a, &root, err);
	ydoc_free(&d);
	return rc;
}

/* Gradescope's layout: no tests known in advance; they come from results.json. */
static const struct limits gradescope_limits = {
	.time = 600, .wall = 1200, .memory_mib = 2048, .processes = 256, .output_kib = 16384,
};

static int load_gradescope(struct assignment *a, const char *dir, struct lv_err *err)
{
	char file[PATH_MAX + 32];
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;

	snprintf(file, sizeof(file), "%s/setup.sh", dir);
	if (access(file, R_OK) != 0)
		return lv_err_set(err, "%s has run_autograder but no setup.sh (Gradescope's "
				  "autograder layout needs both at its top level)", dir);
	a->gradescope = true;
	a->title = strdup(base);
	a->limits = gradescope_limits;
	a->max_submission_kib = 64 << 10;
	return 0;
}

/* An archive is unpacked (safely, like a submission) into a scratch folder;
 * a single top-level folder in it is the assignment. */
static int unpack_assignment(const char *file, const char *scratch, struct assignment *a,
			     char real[PATH_MAX], struct lv_err *err)
{
	struct unpack_caps caps = { .max_bytes = 1ull << 30, .max_files = 100000 };
	char tmp[PATH_MAX - 256], only[PATH_MAX];
	struct dirent *e;
	int entries = 0;
	DIR *d;

	snprintf(tmp, sizeof(tmp), "%s/labvisor-assignment-XXXXXX", scratch);
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return lv_err_sys(err, errno, "scratch folder for %s", file);
	a->unpacked = strdup(tmp);
	if (submission_import(file, tmp, &caps, err) < 0)
		return lv_err_wrap(err, "assignment %s", file);
	snprintf(real, PATH_MAX, "%s", tmp);
	d = opendir(tmp);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && entries++ == 0)
			snprintf(only, sizeof(only), "%s/%s", tmp, e->d_name);
	if (d)
		closedir(d);
	if (entries == 1 && (d = opendir(only))) {
		closedir(d);
		snprintf(real, PATH_MAX, "%s", only);
	}
	return 0;
}

int assignment_load(const char *dir, struct assignment *a, struct lv_err *err)
{
	return assignment_load_in(dir, "/tmp", a, err);
}

int assignment_load_in(const char *dir, const char *scratch, struct assignment *a,
		       struct lv_err *err)
{
	char real[PATH_MAX], file[PATH_MAX + 32];
	struct stat st;

	memset(a, 0, sizeof(*a));
	if (!realpath(dir, real) || stat(real, &st) < 0)
		return lv_err_sys(err, errno, "assignment %s", dir);
	if (S_ISREG(st.st_mode) && unpack_assignment(real, scratch, a, real, err) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return lv_err_set(err, "assignment %s is neither a folder nor an archive", dir);
	a->dir = strdup(real);
	snprintf(file, sizeof(file), "%s/assignment.yaml", real);
	if (access(file, F_OK) == 0)
		return load_yaml(a, file, err);
	snprintf(file, sizeof(file), "%s/run_autograder", real);
	if (access(file, F_OK) == 0)
		return load_gradescope(a, real, err);
	return lv_err_set(err, "assignment %s has no assignment.yaml (nor Gradescope's setup.sh "
			  "and run_autograder)", dir);
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static void free_expected(struct expected *e)
{
	free(e->text);
	free(e->file);
}

void assignment_free(struct assignment *a)
{
	for (size_t i = 0; i < a->ntests; i++) {
		struct test *t = &a->tests[i];

		free(t->name);
		free(t->group);
		free(t->command);
		free(t->checker);
		free(t->results);
		free_expected(&t->stdin_data);
		free_expected(&t->out);
		free_expected(&t->err);
		free_expected(&t->checker_data);
		free_list(t->files);
		for (size_t c = 0; c < t->ncases; c++)
			free(t->cases[c].name);
		free(t->cases);
	}
	free(a->tests);
	free(a->dir);
	free(a->title);
	free(a->root);
	free(a->build);
	free(a->setup);
	if (a->unpacked)
		remove_tree(a->unpacked);
	free(a->unpacked);
	free_list(a->required);
	free_list(a->optional);
	free_list(a->env_files);
	memset(a, 0, sizeof(*a));
}
