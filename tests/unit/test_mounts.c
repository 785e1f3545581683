/* The sandbox's mount plan: what it contains, its order, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/mounts.h"
#include "sandbox/seccomp.h"

static const struct mstep *find(const struct mount_plan *p, enum mstep_kind kind, const char *dst)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->step[i].kind == kind && strcmp(p->step[i].dst, dst) == 0)
			return &p->step[i];
	return NULL;
}

static void default_root(void **state)
{
	struct sandbox_config cfg = sandbox_config_default();
	struct mount_plan p;
	struct lv_err err;
	const struct mstep *passwd;

	(void)state;
	assert_int_equal(mount_plan_build(&cfg, "box", &p, &err), 0);
	assert_int_equal(p.step[0].kind, STEP_ROOT_TMPFS);
	assert_true(find(&p, STEP_BIND, "/usr") != NULL);
	assert_true(find(&p, STEP_PROC, "/proc") != NULL);
	assert_true(find(&p, STEP_DEV, "/dev") != NULL);
	assert_true(find(&p, STEP_TMPFS, "/tmp") != NULL);
	assert_true(find(&p, STEP_READONLY, "/etc") != NULL);
	passwd = find(&p, STEP_FILE, "/etc/passwd");
	assert_non_null(passwd);
	assert_non_null(strstr(passwd->text, "sandbox:x:1000:1000"));
	assert_non_null(strstr(find(&p, STEP_FILE, "/etc/hosts")->text, "127.0.1.1\tbox"));
	/* Never the host's /home, /root, /var, /srv, /run or /proc. */
	for (unsigned i = 0; i < p.n; i++) {
		static const char *const never[] = { "/home", "/root", "/var", "/srv", "/run" };

		for (unsigned j = 0; j < 5; j++)
			assert_true(strncmp(p.step[i].src, never[j], strlen(never[j])) != 0);
		if (p.step[i].kind == STEP_BIND)
			assert_true(strcmp(p.step[i].src, "/proc") != 0);
	}
	assert_string_equal(p.workdir, "/tmp");
	mount_plan_free(&p);
}

static void binds_sorted_and_mapped(void **state)
{
	struct sandbox_config cfg = sandbox_config_default();
	char host[4096];
	struct mount_plan p;
	struct lv_err err;
	int deep = -1, shallow = -1;

	(void)state;
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = "/usr/share", .dst = "/opt/a/b" };
	cfg.binds[cfg.nbinds++] = (struct sb_bind){ .src = "/usr/lib", .dst = "/opt", .rw = true };
	assert_int_equal(mount_plan_build(&cfg, "box", &p, &err), 0);
	for (unsigned i = 0; i < p.n; i++) {
		if (strcmp(p.step[i].dst, "/opt/a/b") == 0)
			deep = (int)i;
		if (strcmp(p.step[i].dst, "/opt") == 0)
			shallow = (int)i;
	}
	assert_true(shallow >= 0 && deep > shallow);     /* parents first */
	assert_true(p.step[shallow].rw && !p.step[deep].rw);
	assert_true(mount_plan_host_path(&p, "/opt/a/b/x", host, sizeof(host)));
	assert_string_equal(host, "/usr/share/x");
	assert_true(mount_plan_host_path(&p, "/opt/libc.so", host, sizeof(host)));
	assert_string_equal(host, "/usr/lib/libc.so");
	assert_true(mount_plan_host_path(&p, "/usr/bin/true", host, sizeof(host)));
	assert_string_equal(host, "/usr/bin/true");
	assert_false(mount_plan_host_path(&p, "/tmp/prog", host, sizeof(host)));
	assert_false(mount_plan_host_path(&p, "/usrx/prog", host, sizeof(host)));
	mount_plan_free(&p);
}

static void expect_refused(struct sb_bind b, const char *needle)
{
	struct sandbox_config cfg = sandbox_config_default();
	struct mount_plan p;
	struct lv_err err;

	cfg.binds[cfg.nbinds++] = b;
	assert_int_equal(mount_plan_build(&cfg, "box", &p, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' does not say '%s'", err.msg, needle);
	mount_plan_free(&p);
}

static void bad_binds(void **state)
{
	(void)state;
	expect_refused((struct sb_bind){ .src = "/usr", .dst = "relative" }, "absolute path");
	expect_refused((struct sb_bind){ .src = "/usr", .dst = "/a/../etc" }, "absolute path");
	expect_refused((struct sb_bind){ .src = "/usr", .dst = "/a/." }, "absolute path");
	expect_refused((struct sb_bind){ .src = "/usr", .dst = "/proc/sys" }, "cannot mount over");
	expect_refused((struct sb_bind){ .src = "/usr", .dst = "/dev" }, "cannot mount over");
	expect_refused((struct sb_bind){ .src = "/usr", .dst = "/" }, "cannot mount over");
	expect_refused((struct sb_bind){ .src = "/no/such/dir" }, "/no/such/dir");
}

static void root_must_have_mount_points(void **state)
{
	struct sandbox_config cfg = sandbox_config_default();
	char root[] = "/tmp/lv-root-XXXXXX", sub[64];
	struct mount_plan p;
	struct lv_err err;

	(void)state;
	assert_non_null(mkdtemp(root));
	cfg.root = root;
	assert_int_equal(mount_plan_build(&cfg, "box", &p, &err), -1);
	assert_non_null(strstr(err.msg, "has no /proc"));
	mount_plan_free(&p);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", root, (const char *[]){ "proc", "dev", "tmp" }[i]);
		assert_int_equal(mkdir(sub, 0755), 0);
	}
	assert_int_equal(mount_plan_build(&cfg, "box", &p, &err), 0);
	assert_int_equal(p.step[0].kind, STEP_ROOT_BIND);
	mount_plan_free(&p);
	cfg.root = "/etc/passwd";
	assert_int_equal(mount_plan_build(&cfg, "box", &p, &err), -1);
	assert_non_null(strstr(err.msg, "is not a directory"));
	for (unsigned i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", root, (const char *[]){ "proc", "dev", "tmp" }[i]);
		rmdir(sub);
	}
	rmdir(root);
}

static void syscall_names(void **state)
{
	struct sandbox_config cfg = sandbox_config_default();
	struct lv_err err;

	(void)state;
	cfg.syscall_allow[cfg.nallow++] = "ptrace";
	cfg.syscall_deny[cfg.ndeny++] = "getcwd";
	assert_int_equal(sb_seccomp_check(&cfg, &err), 0);
	cfg.syscall_deny[cfg.ndeny++] = "no_such_call";
	assert_int_equal(sb_seccomp_check(&cfg, &err), -1);
	assert_non_null(strstr(err.msg, "no_such_call"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_root),
		cmocka_unit_test(binds_sorted_and_mapped),
		cmocka_unit_test(bad_binds),
		cmocka_unit_test(root_must_have_mount_points),
		cmocka_unit_test(syscall_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
