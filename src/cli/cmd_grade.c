/* labvisor grade: command line over libgrade (src/grade/grade.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "grade/grade.h"
#include "util/parse.h"

#define CMD "grade"
#define EXIT_INFRA 3

static void usage_grade(FILE *out)
{
	fprintf(out,
		"Usage: labvisor grade [OPTIONS] ASSIGNMENT SUBMISSION\n"
		"\n"
		"Builds and tests SUBMISSION (a folder, one file, or a .zip / .tar.gz / .tar.xz)\n"
		"against ASSIGNMENT, each step in a fresh sandbox.  ASSIGNMENT is a folder (or\n"
		"an archive of one) with assignment.yaml, or a Gradescope autograder with\n"
		"setup.sh and run_autograder (run on a Debian 12 image built once and cached\n"
		"in /var/lib/labvisor); see docs/assignment-format.md.  Shows progress on\n"
		"standard error and a table of the tests on standard output.  Ctrl-C ends the\n"
		"running tests and cleans up.\n"
		"\n"
		"Options:\n"
		"  --json FILE          write the result as results.json (Gradescope's schema\n"
		"                       with Labvisor's fields)\n"
		"  --jobs N             run N tests at once (default 1)\n"
		"  --submitted-at TIME  apply the late policy as if submitted at TIME\n"
		"                       (2026-12-01T23:59:00Z)\n"
		"  --work-dir DIR       where scratch folders go (default /tmp)\n"
		"  --keep               keep the scratch folder and print where it is\n"
		"  --quiet              no progress lines\n"
		"  -h, --help           show this help\n"
		"\n"
		"Exit status: 0 when the submission was graded (whatever its score); 2 for\n"
		"bad options or an invalid assignment; 3 when grading failed on our side\n"
		"(never the student's zero).\n");
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C, SIGTERM, SIGHUP: grade_run ends the running tests and cleans up. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };      /* no SA_RESTART */

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void print_progress(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "labvisor grade: %s\n", line);
}

static void print_table(const struct grade_result *r)
{
	printf("%-36s %13s  %-13s %8s\n", "test", "points", "status", "time");
	for (size_t i = 0; i < r->ntests; i++)
		printf("%-36.36s %6g/%-6g  %-13s %6.3f s\n", r->tests[i].name, r->tests[i].score,
		       r->tests[i].max_score, test_status_name(r->tests[i].status),
		       r->tests[i].seconds);
	if (r->late_days > 0)
		printf("late by %g day(s): -%g%%\n", r->late_days, r->late_penalty_pct);
	printf("%-36s %6g/%-6g\n", "total", r->score, r->max_score);
	if (r->rejected)
		printf("submission rejected: %s\n", r->rejected);
	if (r->build_failed)
		printf("build failed:\n%s\n", r->build_output ? r->build_output : "");
	if (r->infra_error)
		printf("INFRASTRUCTURE ERROR (not a grade): %s\n", r->infra_error);
}

static int parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!rest || strcmp(rest, "Z") != 0)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static int parse_grade(int argc, char **argv, struct grade_request *req, const char **json,
		       const char **assignment)
{
	static const struct option opts[] = {
		{ "json", 1, NULL, 'j' }, { "jobs", 1, NULL, 'J' }, { "submitted-at", 1, NULL, 's' },
		{ "work-dir", 1, NULL, 'w' }, { "keep", 0, NULL, 'k' }, { "quiet", 0, NULL, 'q' },
		{ "help", 0, NULL, 'h' }, { 0 },
	};
	unsigned long n;
	int c;

	argv[0] = (char *)"labvisor " CMD;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': *json = optarg; break;
		case 'J':
			if (!lv_parse_uint(optarg, 1, 64, &n))
				return cli_error(CMD, "--jobs takes 1..64");
			req->jobs = (unsigned)n;
			break;
		case 's':
			if (parse_time(optarg, &req->submitted_at) < 0)
				return cli_error(CMD, "--submitted-at takes a UTC time like "
						 "2026-12-01T23:59:00Z");
			break;
		case 'w': req->work_root = optarg; break;
		case 'k': req->keep = true; break;
		case 'q': req->progress = NULL; break;
		case 'h': usage_grade(stdout); return 1;
		default: return cli_error(CMD, "try 'labvisor grade --help'");
		}
	}
	if (argc - optind != 2)
		return cli_error(CMD, "expected ASSIGNMENT and SUBMISSION; try 'labvisor grade --help'");
	*assignment = argv[optind];
	req->submission = argv[optind + 1];
	return 0;
}

int cmd_grade(int argc, char **argv)
{
	struct grade_request req = { .jobs = 1, .progress = print_progress, .cancel = &interrupted };
	const char *json = NULL, *dir = NULL;
	struct assignment a;
	struct grade_result res;
	struct lv_err err;
	char *text;
	int rc = parse_grade(argc, argv, &req, &json, &dir);

	if (rc != 0)
		return rc > 0 ? 0 : LV_EXIT_USAGE;
	if (assignment_load(dir, &a, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		assignment_free(&a);
		return LV_EXIT_USAGE;
	}
	catch_signals();
	if (grade_run(&a, &req, &res, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		assignment_free(&a);
		return EXIT_INFRA;
	}
	print_table(&res);
	text = grade_result_json(&a, &res);
	if (json) {
		FILE *f = fopen(json, "w");

		if (!f || !text || fputs(text, f) < 0 || fclose(f) != 0)
			rc = cli_error(CMD, "cannot write %s", json);
	}
	free(text);
	rc = rc < 0 ? LV_EXIT_USAGE : res.infra_error ? EXIT_INFRA : 0;
	grade_result_free(&res);
	assignment_free(&a);
	return rc;
}
