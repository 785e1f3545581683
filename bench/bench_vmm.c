/*
 * Benchmarks of `labvisor vm`, each a ratio against a peer measured in the
 * same run:
 *   (a) exec-to-exit of `labvisor vm run --format flat hello.bin` against
 *       kvm_min (bench/kvm_min.c) running the same guest   goal <= 1.3x
 *   (b) hypercall round trip through libvmm against a raw KVM_RUN/exit loop
 *       in this process, same guest code                   goal <= 1.1x
 *   (c) labvisor's resident memory beyond guest RAM, with a guest that
 *       touches all of its 64 MiB                           goal <= 2 MiB
 * Medians over --runs repetitions.  Times are wall clock, so run it on an
 * otherwise idle machine.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "raw_kvm.h"
#include "vmm/vmm.h"

#define LOOP_N 20000u

static void bench_exec(const char *labvisor, const char *kvm_min, const char *guests, int runs)
{
	char hello[4096];
	double ours[runs], peer[runs], mo, mp;

	snprintf(hello, sizeof(hello), "%s/hello.bin", guests);
	char *lv_argv[] = { (char *)labvisor, "vm", "run", "--format", "flat", hello, NULL };
	char *min_argv[] = { (char *)kvm_min, hello, NULL };

	for (int i = 0; i < runs; i++) {
		ours[i] = bench_time_exec(lv_argv, NULL);
		peer[i] = bench_time_exec(min_argv, NULL);
	}
	mo = bench_median(ours, runs);
	mp = bench_median(peer, runs);
	printf("(a) exec-to-exit, flat hello   labvisor %8.2f ms   kvm_min %8.2f ms   "
	       "ratio %.2fx (goal <= 1.3x)\n", mo * 1e3, mp * 1e3, mo / mp);
	printf("RESULT exec_ratio=%.3f\n", mo / mp);
}

static double time_vmm_loop(const char *path, uint32_t n)
{
	struct vmm_config cfg = vmm_config_default();
	uint8_t code[64];
	struct vmm_result res;
	struct lv_err err;
	size_t len = raw_kvm_loop_guest(code, sizeof(code), n);
	FILE *f = fopen(path, "wb");
	double t0;

	if (!f || fwrite(code, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	cfg.guest_path = path;
	cfg.format = VMM_FORMAT_FLAT;
	t0 = bench_now();
	if (vmm_run(&cfg, &res, &err) < 0 || res.end != VMM_END_HALTED ||
	    res.stats.count[LV_EXIT_HYPERCALL] != n) {
		fprintf(stderr, "bench: hypercall guest did not run as expected: %s %s\n",
			err.msg, res.message);
		exit(1);
	}
	return bench_now() - t0;
}

static double time_raw_loop(uint32_t n)
{
	uint8_t code[64];
	size_t len = raw_kvm_loop_guest(code, sizeof(code), n);
	double t0 = bench_now();

	if (raw_kvm_run(code, len, STDOUT_FILENO) != (long)n)
		exit(1);
	return bench_now() - t0;
}

static void bench_hypercall(int runs)
{
	char path[] = "/tmp/labvisor-bench-XXXXXX";
	double ours[runs], peer[runs], mo, mp;
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	for (int i = 0; i < runs; i++) {
		/* Differences cancel VM creation and teardown: only round trips remain. */
		ours[i] = (time_vmm_loop(path, LOOP_N + 1) - time_vmm_loop(path, 1)) / LOOP_N;
		peer[i] = (time_raw_loop(LOOP_N + 1) - time_raw_loop(1)) / LOOP_N;
	}
	unlink(path);
	mo = bench_median(ours, runs);
	mp = bench_median(peer, runs);
	printf("(b) hypercall round trip       libvmm   %8.2f us   raw loop %7.2f us   "
	       "ratio %.2fx (goal <= 1.1x)\n", mo * 1e6, mp * 1e6, mo / mp);
	printf("RESULT hypercall_ratio=%.3f hypercall_us=%.3f raw_exit_us=%.3f\n",
	       mo / mp, mo * 1e6, mp * 1e6);
}

static void bench_memory(const char *labvisor, const char *kvm_min, const char *guests)
{
	char touch[4096], hello[4096];
	long rss_ours, rss_peer;
	const long guest_kib = 64 << 10;

	snprintf(touch, sizeof(touch), "%s/touch_mem.elf", guests);
	snprintf(hello, sizeof(hello), "%s/hello.bin", guests);
	char *lv_argv[] = { (char *)labvisor, "vm", "run", "--mem", "64M", touch, NULL };
	char *min_argv[] = { (char *)kvm_min, hello, NULL };

	bench_time_exec(lv_argv, &rss_ours);
	bench_time_exec(min_argv, &rss_peer);
	printf("(c) resident memory            labvisor %ld KiB beyond %ld KiB of guest RAM "
	       "(goal <= 2048 KiB); kvm_min's whole RSS with hello: %ld KiB\n",
	       rss_ours - guest_kib, guest_kib, rss_peer);
	printf("RESULT rss_beyond_guest_kib=%ld kvm_min_rss_kib=%ld\n",
	       rss_ours - guest_kib, rss_peer);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "labvisor", required_argument, NULL, 'l' },
		{ "kvm-min", required_argument, NULL, 'k' },
		{ "guests", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 },
	};
	const char *labvisor = NULL, *kvm_min = NULL, *guests = NULL;
	int runs = 21, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': labvisor = optarg; break;
		case 'k': kvm_min = optarg; break;
		case 'g': guests = optarg; break;
		case 'r': runs = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!labvisor || !kvm_min || !guests || runs < 1 || runs > 1000) {
		fprintf(stderr, "usage: bench_vmm --labvisor PATH --kvm-min PATH --guests DIR "
			"[--runs N]\n");
		return 2;
	}
	bench_exec(labvisor, kvm_min, guests, runs);
	bench_hypercall(runs < 5 ? runs : 5);
	bench_memory(labvisor, kvm_min, guests);
	return 0;
}
