#!/usr/bin/env python3
"""Integration tests of `labvisor isolate` with real namespaces and cgroups.

Each case is one function; meson registers each as its own test
(`isolate_test.py --list`).  Run one by hand, as root:

    tests/integration/isolate_test.py fork_bomb --labvisor build/labvisor \
        --hostile build/tests/hostile

Exit status 77 ("skipped") with the reason when this machine cannot run the
case (not root, no cgroup v2 controllers for the v2 cases, ...).
"""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from harness import Skip, case, expect, run

SB_UID_BASE = 1000000000


class Ctx:
    def __init__(self, labvisor, hostile):
        self.labvisor = os.path.abspath(labvisor)
        self.hostile = os.path.abspath(hostile)

    def run(self, *args, timeout=60, prefix=()):
        """labvisor isolate ARGS with a JSON report; returns (status, report, out, err)."""
        with tempfile.TemporaryDirectory() as d:
            rep = os.path.join(d, "report.json")
            p = subprocess.run([*prefix, self.labvisor, "isolate", "--report", rep, *args],
                               capture_output=True, timeout=timeout)
            report = json.load(open(rep)) if os.path.exists(rep) else None
        return p.returncode, report, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    @contextlib.contextmanager
    def workdir(self):
        """A work directory holding the hostile program, as a grader would prepare it."""
        d = tempfile.mkdtemp(prefix="lv-isolate-")
        try:
            shutil.copy(self.hostile, os.path.join(d, "hostile"))
            yield d
        finally:
            shutil.rmtree(d)


@contextlib.contextmanager
def public_dir(prefix):
    """A temporary directory the box user can reach (mode 755), removed after."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        os.chmod(d, 0o755)
        yield d
    finally:
        shutil.rmtree(d)


def verdict(report, status, *context):
    expect(report is not None, "a JSON report", *context)
    expect(report["status"] == status, "status %s, got %s" % (status, report["status"]),
           report, *context)


# ---- ordinary runs ---------------------------------------------------------------

@case
def ok_and_report_fields(ctx):
    rc, rep, out, err = ctx.run("--", "/bin/echo", "hello")
    expect(rc == 0 and out == "hello\n", "echo runs", rc, out, err)
    verdict(rep, "OK", err)
    for k in ("exit_code", "signal", "cpu_time", "wall_time", "max_rss_kib", "processes",
              "cgroup_version"):
        expect(k in rep, "report has " + k, rep)
    expect(rep["cgroup_version"] in (1, 2) and rep["processes"] >= 1, "cgroup facts", rep)
    expect(re.search(r"^labvisor isolate: OK \(exit 0\).*cgroup v[12]", err, re.M), "human line", err)


@case
def exit_code_and_signal(ctx):
    rc, rep, out, err = ctx.run("--", "/bin/sh", "-c", "exit 3")
    expect(rc == 1, "labvisor exits 1", rc, err)
    verdict(rep, "RUNTIME_ERROR", err)
    expect(rep["exit_code"] == 3 and rep["signal"] == 0, "exit code 3", rep)
    rc, rep, out, err = ctx.run("--", "/bin/sh", "-c", "kill -SEGV $$")
    verdict(rep, "RUNTIME_ERROR", err)
    expect(rep["signal"] == 11, "signal 11", rep)


@case
def identity_and_environment(ctx):
    rc, rep, out, err = ctx.run("--env", "FOO=bar", "--hostname", "box", "--", "/bin/sh", "-c",
                                "id -u; id -g; hostname; env | sort; pwd; cat /proc/self/status")
    verdict(rep, "OK", err)
    lines = out.splitlines()
    expect(lines[0] == "1000" and lines[1] == "1000", "uid and gid 1000 inside", out)
    expect(lines[2] == "box", "hostname", out)
    env = [l for l in lines if re.match(r"^[A-Z_]+=", l)]
    names = sorted(l.split("=")[0] for l in env)
    expect(set(names) <= {"FOO", "HOME", "PATH", "PWD", "SHLVL", "OLDPWD", "_"}, "clean env", env)
    expect("FOO=bar" in env, "--env", env)
    for field in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"):
        expect(re.search(r"^%s:\s+0+$" % field, out, re.M), field + " empty", out)
    expect(re.search(r"^NoNewPrivs:\s+1$", out, re.M), "no_new_privs", out)
    expect(re.search(r"^Seccomp:\s+2$", out, re.M), "seccomp filter", out)


@case
def host_uid_owns_nothing(ctx):
    if os.geteuid() != 0:
        raise Skip("root mode only")
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--", "/bin/sh", "-c",
                                    "sleep 0.3 & echo x > made; ln made link2; wait")
        verdict(rep, "OK", err)
        st = os.stat(os.path.join(d, "made"))
        expect(st.st_uid == os.stat(d).st_uid, "files given back to the dir's owner", st)
        expect(not box_processes(), "no process of a box uid remains", box_processes())


@case
def stdin_stdout_stderr_files(ctx):
    with tempfile.TemporaryDirectory() as d:
        inp, o, e = (os.path.join(d, n) for n in ("in", "out", "err"))
        open(inp, "w").write("3 4\n")
        rc, rep, out, err = ctx.run("--stdin", inp, "--stdout", o, "--stderr", e, "--",
                                    "/bin/sh", "-c", "read a b; echo $((a+b)); echo oops >&2")
        verdict(rep, "OK", err)
        expect(open(o).read() == "7\n" and open(e).read() == "oops\n", "files", out, err)


@case
def work_dir_and_binds(ctx):
    with ctx.workdir() as d, public_dir("lv-ro-") as ro:
        open(os.path.join(ro, "data"), "w").write("shared\n")
        os.chmod(os.path.join(ro, "data"), 0o644)
        rc, rep, out, err = ctx.run("--dir", d, "--bind", ro + ":/data", "--", "/bin/sh", "-c",
                                    "pwd; cat /data/data; echo new > result; "
                                    "echo x > /data/x 2>/dev/null || echo ro-ok")
        verdict(rep, "OK", err)
        expect(out.splitlines() == [d, "shared", "ro-ok"], "cwd, bind, read-only", out, err)
        expect(open(os.path.join(d, "result")).read() == "new\n", "work dir is writable")
        expect(not os.path.exists(os.path.join(ro, "x")), "read-only bind stayed so")


@case
def custom_root(ctx):
    with public_dir("lv-root-") as root:
        for d in ("proc", "dev", "tmp", "bin"):
            os.mkdir(os.path.join(root, d))
        shutil.copy(ctx.hostile, os.path.join(root, "bin", "hostile"))
        rc, rep, out, err = ctx.run("--root", root, "--", "/bin/hostile", "escapes")
        verdict(rep, "OK", out, err)
        expect("SUCCEEDED" not in out and len(out.splitlines()) == 13, "contained", out)
        rc, rep, out, err = ctx.run("--root", root, "--", "/bin/sh", "-c", "true")
        expect(rc == 2 and "/bin/sh does not exist in the sandbox" in err, "only the root's files", err)


# ---- the hostile suite -----------------------------------------------------------

@case
def fork_bomb(ctx):
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--procs", "32", "--wall", "2", "--",
                                    "./hostile", "forkbomb", timeout=60)
        verdict(rep, "TIME_LIMIT", err)
        expect(rep["processes"] <= 32, "at most 32 processes at once", rep)


@case
def memory_hog(ctx):
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--mem", "64", "--wall", "20", "--",
                                    "./hostile", "memhog")
        verdict(rep, "MEMORY_LIMIT", out, err)
        expect(rep["max_rss_kib"] <= 64 * 1024 + 1024, "peak memory within the limit", rep)


@case
def cpu_burner_threads(ctx):
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--time", "1", "--wall", "10", "--",
                                    "./hostile", "cpuburn", "4")
        verdict(rep, "TIME_LIMIT", err)
        expect(1.0 <= rep["cpu_time"] < 1.5, "CPU time of all threads counted", rep)
        expect(rep["wall_time"] < 1.2, "killed on CPU time, before wall-clock 1 s", rep)


@case
def sleeper_wall_limit(ctx):
    rc, rep, out, err = ctx.run("--wall", "0.5", "--", "/bin/sleep", "10")
    verdict(rep, "TIME_LIMIT", err)
    expect(0.5 <= rep["wall_time"] < 1.5 and rep["cpu_time"] < 0.2, "wall limit", rep)
    expect("wall" in rep["message"], "says which limit", rep)


@case
def gigabyte_of_output(ctx):
    with ctx.workdir() as d:
        with tempfile.NamedTemporaryFile() as o:
            t0 = time.monotonic()
            rc, rep, out, err = ctx.run("--dir", d, "--output", "1", "--stdout", o.name, "--",
                                        "./hostile", "output")
            verdict(rep, "OUTPUT_LIMIT", err)
            expect(os.path.getsize(o.name) == 1 << 20, "cut at exactly 1 MiB",
                   os.path.getsize(o.name))
            expect(time.monotonic() - t0 < 10, "stopped promptly")


@case
def write_outside_work_dir(ctx):
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--", "/bin/sh", "-c",
                                    "for f in /x /usr/x /etc/x /bin/x /proc/x /dev/x %s/../escape; "
                                    "do echo x > $f 2>/dev/null && echo wrote $f; done; exit 0" % d)
        verdict(rep, "OK", err)
        expect("wrote" not in out.replace("wrote %s/../escape" % d, ""), "no write outside", out)
        parent = os.path.dirname(d)
        expect(not os.path.exists(os.path.join(parent, "escape")), "nothing next to the work dir")
        for p in ("/x", "/usr/x", "/etc/x"):
            expect(not os.path.exists(p), "no " + p + " on the host")


@case
def root_only_host_file(ctx):
    if os.geteuid() != 0:
        raise Skip("needs root to create a root-only file")
    with public_dir("lv-secret-") as secret:
        path = os.path.join(secret, "secret")
        open(path, "w").write("TOPSECRET")
        os.chmod(path, 0o600)
        rc, rep, out, err = ctx.run("--bind", secret + ":/secret", "--", "/bin/sh", "-c",
                                    "cat /secret/secret; cat /etc/shadow; ls /root; exit 0")
        verdict(rep, "OK", err)
        expect("TOPSECRET" not in out and "root:" not in out, "nothing readable", out)


@case
def host_processes_invisible(ctx):
    marker = subprocess.Popen(["sleep", "1234.5678"])
    try:
        rc, rep, out, err = ctx.run("--", "/bin/sh", "-c",
                                    "ls /proc | grep -c '^[0-9]'; cat /proc/*/cmdline | tr '\\0' ' '")
        verdict(rep, "OK", err)
        expect("1234.5678" not in out, "a host process seen in /proc", out)
        expect(int(out.splitlines()[0]) <= 4, "only the sandbox's processes", out)
    finally:
        marker.kill()
        marker.wait()


@case
def host_port_unreachable(ctx):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    try:
        rc, rep, out, err = ctx.run("--wall", "10", "--", "/bin/bash", "-c",
                                    "echo hi > /dev/tcp/127.0.0.1/%d && echo CONNECTED; exit 0" % port)
        verdict(rep, "OK", err)
        expect("CONNECTED" not in out, "no connection to the host's loopback", out)
        try:
            srv.accept()
            expect(False, "the host listener saw a connection")
        except socket.timeout:
            pass
    finally:
        srv.close()


@case
def escapes_denied(ctx):
    with ctx.workdir() as d:
        before = socket.gethostname()
        rc, rep, out, err = ctx.run("--dir", d, "--", "./hostile", "escapes")
        verdict(rep, "OK", out, err)
        expect("SUCCEEDED" not in out, "every escape fails", out)
        expect(len(out.splitlines()) == 13, "all attempts made", out)
        expect(socket.gethostname() == before, "host name unchanged")
        rc, rep, out, err = ctx.run("--", "/usr/bin/unshare", "-U", "/bin/true")
        verdict(rep, "RUNTIME_ERROR", out, err)


@case
def ptrace_of_keeper(ctx):
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--", "./hostile", "ptrace", str(os.getpid()))
        verdict(rep, "OK", out, err)
        expect("SUCCEEDED" not in out, "no ptrace, no signal outside", out)


@case
def setuid_binary_gives_nothing(ctx):
    if os.geteuid() != 0:
        raise Skip("needs root to make a setuid-root file")
    with public_dir("lv-suid-") as d:
        suid = os.path.join(d, "id")
        shutil.copy("/usr/bin/id", suid)
        os.chmod(suid, 0o4755)
        rc, rep, out, err = ctx.run("--bind", d + ":/suid", "--", "/bin/sh", "-c",
                                    "/suid/id -u; /usr/bin/su -c true root </dev/null; exit 0")
        verdict(rep, "OK", err)
        expect(out.splitlines()[0] == "1000", "setuid root gives nothing", out)


@case
def x86_32_abi_killed(ctx):
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--", "./hostile", "int80")
        verdict(rep, "RUNTIME_ERROR", out, err)
        expect(rep["signal"] == 31 and "returned" not in out, "killed by SIGSYS", rep, out)


@case
def fill_tmp(ctx):
    rc, rep, out, err = ctx.run("--fsize", "1024", "--", "/bin/sh", "-c",
                                "dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>&1 | grep -o 'No space left'; "
                                "exit 0")
    verdict(rep, "OK", err)
    expect("No space left" in out, "the private /tmp fills up, not the host's", out)


@case
def kill_the_parent(ctx):
    rc, rep, out, err = ctx.run("--wall", "5", "--", "/bin/sh", "-c",
                                "kill -9 1; kill -9 $PPID; kill -9 -1; echo survived")
    expect(rep is not None, "the keeper survives and reports", rc, err)
    expect(rep["status"] in ("RUNTIME_ERROR", "OK"), "a normal verdict", rep)


@case
def labvisor_sigkilled_mid_run(ctx):
    if os.geteuid() != 0:
        raise Skip("root mode only")
    with ctx.workdir() as d:
        owner = os.stat(d).st_uid
        p = subprocess.Popen([ctx.labvisor, "isolate", "--id", "977", "--dir", d, "--",
                              "/bin/sh", "-c", "sleep 123.456 & sleep 123.456"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not sleeper_pids("123.456"):
            time.sleep(0.05)
        expect(sleeper_pids("123.456"), "the program started")
        p.kill()
        p.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and sleeper_pids("123.456"):
            time.sleep(0.05)
        expect(not sleeper_pids("123.456"), "the box's processes died with labvisor")
        expect(os.stat(d).st_uid != owner, "the work dir is still lent (as a crash leaves it)")
        c = subprocess.run([ctx.labvisor, "isolate", "--cleanup"], capture_output=True, text=True)
        expect(c.returncode == 0 and "cleaned up" in c.stderr, "--cleanup", c)
        expect(os.stat(d).st_uid == owner, "--cleanup gave the work dir back", os.stat(d))
        expect(not cgroups_left(), "no cgroup left", cgroups_left())


@case
def veth_in_test_netns(ctx):
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nsenter"):
        raise Skip("needs root, iproute2 and nsenter")
    ns = "lvtest%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        # The whole test lives in a network namespace it made: the host side of
        # the pair lands there, and the only traffic is 10.199.x inside it.
        prefix = ("nsenter", "--net=/run/netns/" + ns)
        box = 942
        host_ip = "10.199.%d.%d" % ((4 * box + 1) >> 8, (4 * box + 1) & 255)
        box_ip = "10.199.%d.%d" % ((4 * box + 2) >> 8, (4 * box + 2) & 255)
        lst = subprocess.Popen([*prefix, "python3", "-c",
                                "import socket;s=socket.socket();s.bind(('0.0.0.0',7777));"
                                "s.listen(1);s.settimeout(20);c,a=s.accept();"
                                "print(c.recv(100).decode().strip(), a[0])"],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        rc, rep, out, err = ctx.run("--net", "veth", "--id", str(box), "--wall", "20", "--",
                                    "/bin/bash", "-c",
                                    "cat /proc/net/fib_trie | grep -c %s; "
                                    "for i in 1 2 3 4 5; do echo hello > /dev/tcp/%s/7777 && break;"
                                    " sleep 0.5; done" % (box_ip, host_ip), prefix=prefix)
        verdict(rep, "OK", out, err)
        got = lst.communicate(timeout=20)[0]
        expect(got.strip() == "hello " + box_ip, "the host side heard the box", got, out)
        links = subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True).stdout
        expect("lvh%d" % box not in links, "the veth pair is gone", links)
    finally:
        subprocess.run(["ip", "netns", "del", ns])


@case
def ordinary_user_with_delegated_cgroup(ctx):
    v1 = [os.path.join("/sys/fs/cgroup", h) for h in ("memory", "pids", "cpuacct")]
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers") or not all(map(os.path.isdir, v1)):
        raise Skip("cgroup v1 delegation is what this case tests; this host uses v2")
    user = "lvtest%d" % (os.getpid() % 100000)
    subprocess.run(["useradd", "-M", "-s", "/bin/sh", user], check=True)
    work = tempfile.mkdtemp(prefix="lv-user-")
    state = tempfile.mkdtemp(prefix="lv-user-run-")
    try:
        import pwd
        uid = pwd.getpwnam(user).pw_uid
        os.chown(work, uid, -1)
        os.chown(state, uid, -1)
        for d in v1:
            os.makedirs(os.path.join(d, "labvisor"), exist_ok=True)
            os.chown(os.path.join(d, "labvisor"), uid, -1)
            for f in ("tasks", "cgroup.procs"):
                os.chown(os.path.join(d, "labvisor", f), uid, -1)
        # (su resets the environment: XDG_RUNTIME_DIR is set inside the command.)
        p = subprocess.run(["su", user, "-c", "XDG_RUNTIME_DIR=%s %s isolate --dir %s --mem 64 "
                            "-- /bin/sh -c 'id -u; echo made > f'" % (state, ctx.labvisor, work)],
                           capture_output=True, text=True, timeout=60)
        expect(p.returncode == 0 and p.stdout.strip() == "1000", "runs as an ordinary user", p)
        expect(os.stat(os.path.join(work, "f")).st_uid == uid, "files are the user's", p)
        expect("cgroup v1" in p.stderr, "with its cgroup", p.stderr)
        expect(not os.path.exists("/tmp/labvisor-%d" % uid), "its state stayed in XDG_RUNTIME_DIR")
    finally:
        for d in v1:
            for f in ("", "tasks", "cgroup.procs"):
                os.chown(os.path.join(d, "labvisor", f), 0, -1)
        subprocess.run(["userdel", user])
        shutil.rmtree(work)
        shutil.rmtree(state)


# ---- clear errors ----------------------------------------------------------------

@case
def missing_program(ctx):
    for args, needle in ((["--", "no-such-program"], "not found in the sandbox's PATH"),
                         (["--", "/no/such"], "does not exist in the sandbox"),
                         ([], "no PROGRAM given"),
                         (["--root", "/etc/passwd", "--", "/bin/true"], "is not a directory"),
                         (["--dir", "/nonexistent", "--", "/bin/true"], "--dir /nonexistent"),
                         (["--mem", "lots", "--", "/bin/true"], "--mem"),
                         (["--net", "wifi", "--", "/bin/true"], "--net"),
                         (["--syscall-allow", "frobnicate", "--", "/bin/true"], "not a system call")):
        rc, rep, out, err = ctx.run(*args)
        expect(rc == 2 and needle in err, "%s: exit 2 with '%s'" % (args, needle), rc, err)
        expect(len(err.strip().splitlines()) == 1, "one line", err)


@case
def no_user_namespaces(ctx):
    if os.geteuid() != 0:
        raise Skip("needs root to change user.max_user_namespaces")
    path = "/proc/sys/user/max_user_namespaces"
    old = open(path).read()
    if not os.access(path, os.W_OK) or os.statvfs(path).f_flag & os.ST_RDONLY:
        raise Skip("user.max_user_namespaces cannot be changed on this machine "
                   "(read-only /proc/sys)")
    try:
        open(path, "w").write("0")
        rc, rep, out, err = ctx.run("--", "/bin/true")
    finally:
        open(path, "w").write(old)
    expect(rc == 2 and "user namespaces must be enabled" in err, "a clear error", rc, err)
    expect(not cgroups_left(), "no cgroup left", cgroups_left())


@case
def no_cgroups(ctx):
    # labvisor inside labvisor: the inner one sees no /sys, so no cgroups.
    bindir = os.path.dirname(ctx.labvisor)
    # (LeakSanitizer, in the sanitizer build, cannot ptrace inside the sandbox.)
    rc, rep, out, err = ctx.run("--bind", bindir + ":/opt/lv", "--env", "ASAN_OPTIONS=detect_leaks=0",
                                "--", "/opt/lv/labvisor", "isolate", "--", "/bin/true")
    verdict(rep, "RUNTIME_ERROR", out, err)
    expect(rep["exit_code"] == 2, "the inner labvisor exits 2", rep)
    expect(re.search(r"^labvisor isolate: no usable cgroups: .*mount cgroups", err, re.M),
           "one line saying what is wrong and what to do", err)


@case
def syscall_policy_per_assignment(ctx):
    rc, rep, out, err = ctx.run("--syscall-deny", "getcwd", "--", "/bin/sh", "-c", "/bin/pwd; exit 0")
    verdict(rep, "OK", err)
    expect("Operation not permitted" in err + out, "getcwd denied", out, err)
    rc, rep, out, err = ctx.run("--syscall-allow", "unshare", "--", "/usr/bin/unshare", "-U",
                                "/bin/true")
    verdict(rep, "OK", out, err)


@case
def cgroup_v2_limits(ctx):
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        raise Skip("this host mounts cgroup v1 (no v2 hierarchy at /sys/fs/cgroup); "
                   "the v2 code path runs on v2 hosts")
    ctrls = open("/sys/fs/cgroup/cgroup.controllers").read().split()
    if "memory" not in ctrls or "pids" not in ctrls:
        raise Skip("cgroup v2 without the memory and pids controllers")
    with ctx.workdir() as d:
        rc, rep, out, err = ctx.run("--dir", d, "--mem", "64", "--", "./hostile", "memhog")
        verdict(rep, "MEMORY_LIMIT", err)
        expect(rep["cgroup_version"] == 2, "v2 used", rep)


# ---- nothing left behind ---------------------------------------------------------

def sleeper_pids(marker):
    """Processes running exactly `sleep MARKER`."""
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                argv = open("/proc/%s/cmdline" % p).read().split("\0")
                if os.path.basename(argv[0]) == "sleep" and argv[1:2] == [marker]:
                    pids.append(int(p))
            except (OSError, IndexError):
                pass
    return pids


def box_processes():
    """Live processes of a box uid.  Zombies are left out: after a keeper is
    SIGKILLed its dead init is reaped by the machine's init, at its own pace."""
    found = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and os.stat("/proc/" + p).st_uid >= SB_UID_BASE:
                state = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(p))
        except OSError:
            pass
    return found


def cgroups_left():
    left = []
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                 "/sys/fs/cgroup/cpuacct"):
        parent = os.path.join(root, "labvisor")
        if os.path.isdir(parent):
            left += [os.path.join(parent, e) for e in os.listdir(parent) if e.startswith("box-")]
    return left


@case
def nothing_left_behind(ctx):
    mounts = open("/proc/self/mountinfo").read().count("\n")
    with ctx.workdir() as d:
        for args in (["--dir", d, "--wall", "0.3", "--", "./hostile", "cpuburn", "2"],
                     ["--dir", d, "--mem", "32", "--", "./hostile", "memhog"],
                     ["--", "/bin/true"]):
            ctx.run(*args)
    expect(open("/proc/self/mountinfo").read().count("\n") == mounts, "no new mount")
    expect(not cgroups_left(), "no cgroup", cgroups_left())
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    expect(not re.search(r"\blvh\d+", links), "no veth", links)
    expect(not box_processes(), "no process of a box uid", box_processes())


def precondition(name):
    if os.geteuid() != 0:
        return "the sandbox tests run as root (cgroups need it here)"
    return None


if __name__ == "__main__":
    sys.exit(run(__doc__, lambda a: Ctx(a.labvisor, a.hostile), ["--labvisor", "--hostile"],
                 precondition))
