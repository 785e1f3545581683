#include "gradescope.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "image.h"
#include "sandbox/sandbox.h"
#include "testrun.h"

static int set_error(struct grade_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int set_error(struct grade_result *res, const char *fmt, ...)
{
	va_list ap;

	free(res->infra_error);
	va_start(ap, fmt);
	if (vasprintf(&res->infra_error, fmt, ap) < 0)
		res->infra_error = NULL;
	va_end(ap);
	return -1;
}

/* What Gradescope writes there; Labvisor knows no more about the student. */
static int write_metadata(const struct grade_request *req, const char *path)
{
	char when[64];
	time_t t = req->submitted_at ? req->submitted_at : time(NULL);
	json_t *j;
	int rc;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S+00:00", gmtime(&t));
	j = json_pack("{s:s, s:[], s:{}, s:[]}", "created_at", when, "users", "assignment",
		      "previous_submissions");
	rc = json_dump_file(j, path, JSON_INDENT(2));
	json_decref(j);
	return rc;
}

static enum visibility parse_visibility(const char *v)
{
	if (!v || !strcmp(v, "visible"))
		return VIS_VISIBLE;
	if (!strcmp(v, "hidden"))
		return VIS_HIDDEN;
	if (!strcmp(v, "after_published"))
		return VIS_AFTER_PUBLISHED;
	return VIS_AFTER_DUE_DATE;
}

static void read_test(json_t *t, size_t i, struct test_result *r)
{
	const char *name = json_string_value(json_object_get(t, "name"));
	const char *out = json_string_value(json_object_get(t, "output"));
	const char *status = json_string_value(json_object_get(t, "status"));

	r->score = json_number_value(json_object_get(t, "score"));
	r->max_score = json_number_value(json_object_get(t, "max_score"));
	r->vis = parse_visibility(json_string_value(json_object_get(t, "visibility")));
	if (name)
		r->name = strdup(name);
	else if (asprintf(&r->name, "test %zu", i + 1) < 0)
		r->name = NULL;
	r->staff_output = strdup(out ? out : "");
	r->output = r->vis == VIS_HIDDEN ? strdup("(hidden test)\n") : strdup(out ? out : "");
	if (status)
		r->status = !strcmp(status, "passed") ? TS_PASSED : TS_FAILED;
	else
		r->status = r->score >= r->max_score && r->max_score > 0 ? TS_PASSED
			  : r->score > 0 ? TS_PARTIAL : TS_FAILED;
}

/* Fields honoured: score, tests[] (score, max_score, name, output, visibility, status), execution_time. */
static int read_results(const char *dir, struct grade_result *res)
{
	struct lv_err err;
	json_error_t jerr;
	int fd = open_in(dir, "results.json", &err);
	json_t *j = fd >= 0 ? json_loadfd(fd, 0, &jerr) : NULL, *tests, *score;
	size_t i;
	json_t *t;

	if (fd < 0)
		return set_error(res, "run_autograder wrote no results.json (%s)", err.msg);
	close(fd);
	if (!j)
		return set_error(res, "run_autograder wrote no valid results.json (%s)", jerr.text);
	tests = json_object_get(j, "tests");
	res->ntests = json_is_array(tests) ? json_array_size(tests) : 0;
	free(res->tests);       /* grade_run's, sized for the 0 tests known in advance */
	res->tests = calloc(res->ntests ? res->ntests : 1, sizeof(*res->tests));
	json_array_foreach(tests, i, t) {
		read_test(t, i, &res->tests[i]);
		res->max_score += res->tests[i].max_score;
	}
	score = json_object_get(j, "score");
	res->score = 0;
	if (json_is_number(score)) {
		res->score = json_number_value(score);
	} else {
		for (i = 0; i < res->ntests; i++)
			res->score += res->tests[i].score;
	}
	json_decref(j);
	return 0;
}

static int prepare(const char *work, const char *sub, char *upper, char *ovl, char *results,
		   struct lv_err *err)
{
	const char *dirs[] = { upper, ovl, results };

	for (int i = 0; i < 3; i++)
		if (mkdir(dirs[i], 0700) < 0)
			return lv_err_sys(err, errno, "mkdir %s", dirs[i]);
	(void)work;
	if (chown(upper, SB_IMG_BASE, SB_IMG_BASE) < 0 || chown(results, SB_IMG_BASE, SB_IMG_BASE) < 0)
		return lv_err_sys(err, errno, "chown in %s", work);
	return image_shift_owners(sub, err);    /* the submission is root's inside */
}

void gradescope_grade(const struct assignment *a, const struct grade_request *req,
		      const char *work, const char *sub, struct grade_result *res)
{
	char rootfs[PATH_MAX], layer[PATH_MAX], lower[2 * PATH_MAX + 2];
	char upper[PATH_MAX + 16], ovl[PATH_MAX + 16], results[PATH_MAX + 16], meta[PATH_MAX + 32];
	char log[PATH_MAX + 16];
	char *argv[] = { "/autograder/run_autograder", NULL };
	struct sandbox_config cfg = sandbox_config_default();
	struct sandbox_report rep;
	struct lv_err err = { 0 };

	snprintf(upper, sizeof(upper), "%s/upper", work);
	snprintf(ovl, sizeof(ovl), "%s/ovl", work);
	snprintf(results, sizeof(results), "%s/results", work);
	snprintf(meta, sizeof(meta), "%s/submission_metadata.json", work);
	snprintf(log, sizeof(log), "%s/autograder.log", work);
	if (image_base(req, rootfs, &err) < 0 ||
	    image_layer(req, a->dir, rootfs, "setup.sh", true, layer, &err) < 0 ||
	    prepare(work, sub, upper, ovl, results, &err) < 0 || write_metadata(req, meta) < 0) {
		set_error(res, "%s", err.msg[0] ? err.msg : "preparing the autograder");
		return;
	}
	snprintf(lower, sizeof(lower), "%s:%s", layer, rootfs);
	cfg.overlay_lower = lower;
	cfg.overlay_upper = upper;
	cfg.overlay_work = ovl;
	cfg.as_root = true;
	cfg.cwd = "/autograder";
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = sub, .dst = "/autograder/submission", .rw = true };
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = results, .dst = "/autograder/results", .rw = true };
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = meta, .dst = "/autograder/submission_metadata.json" };
	cfg.cpu_sec = a->limits.time;
	cfg.wall_sec = a->limits.wall;
	cfg.mem_bytes = (uint64_t)a->limits.memory_mib << 20;
	cfg.procs = a->limits.processes;
	cfg.output_bytes = (uint64_t)a->limits.output_kib << 10;
	cfg.fsize_bytes = 0;
	cfg.open_files = 1024;
	cfg.stdout_path = cfg.stderr_path = log;
	cfg.argv = argv;
	grade_say(req, "running run_autograder");
	if (sandbox_run(&cfg, &rep, &err) < 0 || rep.status == SB_SANDBOX_ERROR) {
		set_error(res, "run_autograder: %s", err.msg[0] ? err.msg : rep.message);
		return;
	}
	res->build_output = read_text(log, 256 << 10);      /* the autograder's stdout: staff */
	if (rep.status == SB_TIME_LIMIT || rep.status == SB_MEMORY_LIMIT) {
		set_error(res, "run_autograder stopped: %s", rep.message);
		return;
	}
	read_results(results, res);
}
