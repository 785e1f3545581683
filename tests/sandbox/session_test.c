/*
 * Sessions (sandbox_session_*): several runs in one session, each with
 * fresh namespaces, /tmp, accounting and limits; nothing left after close.
 * Usage: session_test HOSTILE   (as root; exit 77 = skipped)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

static int failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			printf("FAILED: " __VA_ARGS__);                   \
			printf("\n");                                     \
			failures++;                                       \
		}                                                         \
	} while (0)

static struct sandbox_report run(struct sb_session *s, const char *dir, const char *out,
				 char *const argv[], double cpu, unsigned mem_mib)
{
	struct sandbox_config c = sandbox_config_default();
	struct sandbox_report rep;
	struct lv_err err;

	c.argv = argv;
	c.dir = dir;
	c.stdout_path = out;
	c.cpu_sec = cpu;
	c.wall_sec = 10;
	c.mem_bytes = (uint64_t)mem_mib << 20;
	if (sandbox_session_run(s, &c, &rep, &err) < 0) {
		printf("FAILED: sandbox_session_run: %s\n", err.msg);
		failures++;
	}
	return rep;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	struct sandbox_config base = sandbox_config_default();
	char dir[] = "/tmp/lv-session-XXXXXX", out[64], box[128], cmd[256];
	struct sb_session *s;
	struct sandbox_report rep;
	struct lv_err err;

	if (geteuid() != 0) {
		printf("SKIP: sessions are tested as root (cgroups need it here)\n");
		return 77;
	}
	if (argc != 2 || !mkdtemp(dir) || chmod(dir, 0755) < 0)
		return 2;
	snprintf(out, sizeof(out), "%s.out", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s/hostile", argv[1], dir);
	if (system(cmd) != 0 || sandbox_session_open(&base, &s, &err) < 0) {
		printf("FAILED: %s\n", err.msg);
		return 1;
	}
	char *writes[] = { "/bin/sh", "-c", "id -u; echo x > /tmp/left; ls /proc | grep -c '^[0-9]'; "
			   "grep CapEff /proc/self/status; pwd; sleep 30 &", NULL };
	rep = run(s, dir, out, writes, 2, 64);
	CHECK(rep.status == SB_OK, "first run OK (%s %s)", sandbox_status_name(rep.status), rep.message);
	CHECK(strstr(slurp(out), "1000\n") && strstr(slurp(out), "CapEff:\t0000000000000000") &&
	      strstr(slurp(out), dir), "identity, capabilities, cwd: %s", slurp(out));
	char *reads[] = { "/bin/sh", "-c", "cat /tmp/left 2>/dev/null || echo fresh-tmp", NULL };
	rep = run(s, dir, out, reads, 2, 64);
	CHECK(rep.status == SB_OK && !strcmp(slurp(out), "fresh-tmp\n"), "a fresh /tmp: %s", slurp(out));
	char *net[] = { "/bin/sh", "-c",
			"grep -c : /proc/net/dev; cat /proc/[0-9]*/comm | grep -c sleep; true", NULL };
	rep = run(s, dir, out, net, 2, 64);
	CHECK(rep.status == SB_OK && !strcmp(slurp(out), "1\n0\n"),
	      "loopback only, nothing left of the last run: %s", slurp(out));
	char *hog[] = { "./hostile", "memhog", NULL };
	rep = run(s, dir, out, hog, 5, 32);
	CHECK(rep.status == SB_MEMORY_LIMIT, "memory limit per run (%s)", sandbox_status_name(rep.status));
	char *burn[] = { "./hostile", "cpuburn", "2", NULL };
	rep = run(s, dir, out, burn, 0.5, 64);
	CHECK(rep.status == SB_TIME_LIMIT && rep.cpu_sec >= 0.5 && rep.cpu_sec < 1,
	      "CPU limit per run (%s, %.2f s)", sandbox_status_name(rep.status), rep.cpu_sec);
	char *small[] = { "/bin/true", NULL };
	rep = run(s, dir, out, small, 2, 64);
	CHECK(rep.status == SB_OK && rep.max_rss_kib < 16 * 1024 && rep.cpu_sec < 0.1,
	      "accounting starts anew (%llu KiB, %.3f s)", (unsigned long long)rep.max_rss_kib,
	      rep.cpu_sec);
	char *bomb[] = { "./hostile", "forkbomb", NULL };
	struct sandbox_config c = sandbox_config_default();
	c.argv = bomb; c.dir = dir; c.procs = 16; c.wall_sec = 1;
	sandbox_session_run(s, &c, &rep, &err);
	CHECK(rep.status == SB_TIME_LIMIT && rep.processes <= 16, "fork bomb contained (%s, %llu)",
	      sandbox_status_name(rep.status), (unsigned long long)rep.processes);
	rep = run(s, dir, out, small, 2, 64);
	CHECK(rep.status == SB_OK, "the session survives its runs (%s %s)",
	      sandbox_status_name(rep.status), rep.message);
	snprintf(box, sizeof(box), "/sys/fs/cgroup/memory/labvisor/box-%d", rep.id);
	sandbox_session_close(s);
	CHECK(access(box, F_OK) != 0 && access("/sys/fs/cgroup/labvisor/box-0", F_OK) != 0,
	      "the session's cgroup is gone");
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, out);
	if (system(cmd) != 0)
		failures++;
	printf("%s\n", failures ? "session tests failed" : "ok: sessions");
	return failures ? 1 : 0;
}
