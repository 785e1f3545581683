/* What the benchmark programs share: a clock, medians, timing a command. */
#ifndef LV_BENCH_UTIL_H
#define LV_BENCH_UTIL_H

/* Monotonic seconds. */
double bench_now(void);

/* Median of n values (sorts v). */
double bench_median(double *v, int n);

/*
 * Seconds from fork to exit of argv (PATH searched), output to /dev/null;
 * exits the benchmark if the command fails.  max_rss_kib may be NULL.
 */
double bench_time_exec(char *const argv[], long *max_rss_kib);

#endif
