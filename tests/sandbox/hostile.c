/*
 * Hostile programs for the sandbox tests, one per subcommand.  Each tries
 * something a grading sandbox must contain and prints what happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int forkbomb(void)
{
	for (;;)
		fork();
}

static int memhog(void)
{
	for (size_t mib = 1;; mib++) {
		char *p = malloc(1 << 20);

		if (!p) {
			printf("malloc failed after %zu MiB\n", mib);
			return 1;
		}
		memset(p, 1, 1 << 20);
	}
}

static void *spin(void *arg)
{
	volatile unsigned long *n = arg;

	for (;;)
		(*n)++;
	return NULL;
}

static int cpuburn(int threads)
{
	static unsigned long counters[64];
	pthread_t t;

	for (int i = 1; i < threads && i < 64; i++)
		pthread_create(&t, NULL, spin, &counters[i]);
	spin(&counters[0]);
	return 0;
}

static int output(void)
{
	static char buf[1 << 16];

	memset(buf, 'x', sizeof(buf));
	for (long i = 0; i < (1l << 30) / (long)sizeof(buf); i++)
		if (write(1, buf, sizeof(buf)) < 0)
			return 1;
	return 0;
}

static void report(const char *what, long rc)
{
	printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "SUCCEEDED");
}

/* ptrace of init, of a pid outside (the keeper's, given), and of memory. */
static int tracer(pid_t outside)
{
	char buf[16];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)0x400000, sizeof(buf) };

	report("ptrace attach init", ptrace(PTRACE_ATTACH, 1, 0, 0));
	report("ptrace seize init", ptrace(PTRACE_SEIZE, 1, 0, 0));
	report("ptrace attach outside", ptrace(PTRACE_ATTACH, outside, 0, 0));
	report("process_vm_readv init", process_vm_readv(1, &local, 1, &remote, 1, 0));
	report("kill outside", kill(outside, SIGKILL));
	return 0;
}

static int escapes(void)
{
	report("unshare user", unshare(CLONE_NEWUSER));
	report("unshare mount", unshare(CLONE_NEWNS));
	report("clone newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
	report("mount tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL));
	report("chroot", chroot("/tmp"));
	report("setuid 0", setuid(0));
	report("sethostname", sethostname("evil", 4));
	report("bpf", syscall(SYS_bpf, 0, NULL, 0));
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
	report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	report("userfaultfd", syscall(SYS_userfaultfd, 0));
	report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
	return 0;
}

/* getpid through the 32-bit ABI: the filter kills the process. */
static int int80(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
	printf("int 0x80 returned %ld\n", ret);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(what, "forkbomb")) return forkbomb();
	if (!strcmp(what, "memhog")) return memhog();
	if (!strcmp(what, "cpuburn")) return cpuburn(argc > 2 ? atoi(argv[2]) : 4);
	if (!strcmp(what, "output")) return output();
	if (!strcmp(what, "ptrace")) return tracer(argc > 2 ? atoi(argv[2]) : 1);
	if (!strcmp(what, "escapes")) return escapes();
	if (!strcmp(what, "int80")) return int80();
	fprintf(stderr, "usage: hostile forkbomb|memhog|cpuburn N|output|ptrace PID|escapes|int80\n");
	return 2;
}
