/*
 * Benchmark of the grading engine: the C example (build + 10 io tests)
 * graded end to end, against the same steps run without sandboxes in the
 * same run (grade_request.unsandboxed), so the difference is what the
 * sandboxes cost.  Goal: sandbox overhead under 20% of the total.  Also
 * submissions per minute with --jobs 2.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "grade/grade.h"

static double grade_once(const struct assignment *a, const char *sub, unsigned jobs, bool bare)
{
	struct grade_request req = { .submission = sub, .jobs = jobs, .unsandboxed = bare };
	struct grade_result res;
	struct lv_err err;
	double t0 = bench_now();

	if (grade_run(a, &req, &res, &err) < 0 || res.infra_error || res.score != res.max_score) {
		fprintf(stderr, "bench: grading did not give full marks: %s\n",
			res.infra_error ? res.infra_error : err.msg);
		exit(1);
	}
	grade_result_free(&res);
	return bench_now() - t0;
}

int main(int argc, char **argv)
{
	const char *examples = argc > 1 ? argv[1] : "examples";
	int runs = argc > 2 ? atoi(argv[2]) : 11;
	char dir[4096], sub[4096];
	double boxed[runs], bare[runs], parallel[runs], mb, mu, mp;
	struct assignment a;
	struct lv_err err;

	snprintf(dir, sizeof(dir), "%s/c-sum", examples);
	snprintf(sub, sizeof(sub), "%s/c-sum/solutions/reference", examples);
	if (runs < 1 || assignment_load(dir, &a, &err) < 0) {
		fprintf(stderr, "usage: bench_grade [EXAMPLES_DIR [RUNS]] (%s)\n", err.msg);
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		boxed[i] = grade_once(&a, sub, 1, false);
		bare[i] = grade_once(&a, sub, 1, true);
		parallel[i] = grade_once(&a, sub, 2, false);
	}
	mb = bench_median(boxed, runs);
	mu = bench_median(bare, runs);
	mp = bench_median(parallel, runs);
	printf("(a) C example, build + %zu io tests: %.1f ms per submission sandboxed, %.1f ms "
	       "bare -> sandbox overhead %.0f%% of the total (goal < 20%%)\n",
	       a.ntests, mb * 1e3, mu * 1e3, (mb - mu) / mb * 100);
	printf("(b) --jobs 2: %.1f ms per submission -> %.0f submissions per minute\n", mp * 1e3,
	       60 / mp);
	printf("RESULT grade_ms=%.1f bare_ms=%.1f overhead_pct=%.1f per_minute_jobs2=%.0f\n",
	       mb * 1e3, mu * 1e3, (mb - mu) / mb * 100, 60 / mp);
	assignment_free(&a);
	return 0;
}
