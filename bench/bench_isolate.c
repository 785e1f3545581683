/*
 * Benchmarks of `labvisor isolate`, as ratios against peers measured in the
 * same run (medians over --runs):
 *   (a) labvisor isolate with every namespace and limit, running /bin/true,
 *       against bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc
 *       /bin/true                                              goal <= 1.0x
 *   (b) a small C program that reads a file and prints it, in the sandbox
 *       against run bare: the sandbox's overhead in milliseconds
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* Runs a and b alternately `runs` times; medians in ms. */
static void pair(char *const a[], char *const b[], int runs, double *ma, double *mb)
{
	double *ta = calloc((size_t)runs, sizeof(double)), *tb = calloc((size_t)runs, sizeof(double));

	for (int i = 0; i < runs; i++) {
		ta[i] = bench_time_exec(a, NULL);
		tb[i] = bench_time_exec(b, NULL);
	}
	*ma = bench_median(ta, runs) * 1e3;
	*mb = bench_median(tb, runs) * 1e3;
	free(ta);
	free(tb);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "labvisor", required_argument, NULL, 'l' },
		{ "catfile", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 },
	};
	const char *labvisor = NULL, *catfile = NULL;
	int runs = 41, c;
	double lv, bw, boxed, bare;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l') labvisor = optarg;
		else if (c == 'c') catfile = optarg;
		else if (c == 'r') runs = atoi(optarg);
		else return 2;
	}
	if (!labvisor || !catfile || runs < 1) {
		fprintf(stderr, "usage: bench_isolate --labvisor PATH --catfile PATH [--runs N]\n");
		return 2;
	}
	char *lv_true[] = { (char *)labvisor, "isolate", "--time", "10", "--wall", "20", "--mem",
			    "256", "--procs", "32", "--output", "16", "--fsize", "16", "--", "/bin/true",
			    NULL };
	char *bwrap[] = { "bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc",
			  "/proc", "/bin/true", NULL };
	char dir[4096], *slash, *real = realpath(catfile, NULL);

	if (!real) {
		perror(catfile);
		return 1;
	}
	catfile = real;
	snprintf(dir, sizeof(dir), "%s", catfile);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	char *lv_cat[] = { (char *)labvisor, "isolate", "--time", "10", "--wall", "20", "--mem",
			   "256", "--procs", "32", "--bind", dir, "--", (char *)catfile,
			   "/etc/hostname", NULL };
	char *bare_cat[] = { (char *)catfile, "/etc/hostname", NULL };

	pair(lv_true, bwrap, runs, &lv, &bw);
	printf("(a) /bin/true          labvisor isolate %6.2f ms   bwrap %6.2f ms   ratio %.2fx "
	       "(goal <= 1.0x)\n", lv, bw, lv / bw);
	pair(lv_cat, bare_cat, runs, &boxed, &bare);
	printf("(b) read-and-print     in the sandbox   %6.2f ms   bare  %6.2f ms   overhead "
	       "%.2f ms\n", boxed, bare, boxed - bare);
	printf("RESULT isolate_vs_bwrap=%.3f isolate_ms=%.3f bwrap_ms=%.3f overhead_ms=%.3f\n",
	       lv / bw, lv, bw, boxed - bare);
	return 0;
}
