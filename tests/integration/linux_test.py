#!/usr/bin/env python3
"""Integration tests of Linux guests under `labvisor vm run --kernel`: the
project's kernel (scripts/build-kernel) and initramfs (`labvisor image
build`) booted on the real /dev/kvm.  A boot costs seconds on PVM hosts.

    tests/integration/linux_test.py boot_to_init_and_poweroff --labvisor build/labvisor
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

from harness import Skip, case, expect, run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "../..")


class Ctx:
    def __init__(self, a):
        self.labvisor = os.path.abspath(a.labvisor)
        self.tmp = tempfile.mkdtemp(prefix="lv-linux-")
        atexit.register(shutil.rmtree, self.tmp, True)     # images and console logs
        p = subprocess.run([os.path.join(ROOT, "scripts/build-kernel")], capture_output=True,
                           text=True, timeout=1800)
        if p.returncode != 0:
            raise Skip("no guest kernel: " + p.stderr.strip().splitlines()[-1])
        # vmlinux: the bzImage's decompressor would run for minutes under PVM's emulator
        self.kernel = os.path.join(os.path.dirname(p.stdout.strip().splitlines()[-1]), "vmlinux")

    def initramfs(self, *extra):
        out = os.path.join(self.tmp, "initramfs-%d.cpio" % len(os.listdir(self.tmp)))
        p = subprocess.run([self.labvisor, "image", "build", "-o", out, *extra],
                           capture_output=True, text=True, timeout=120)
        expect(p.returncode == 0, "labvisor image build", p.stderr)
        return out

    def boot(self, initrd, append, *extra, timeout=300, stdin=""):
        argv = [self.labvisor, "vm", "run", "--kernel", self.kernel, "--initrd", initrd,
                "--mem", "64M", "--append", append, "--timeout", str(timeout), *extra]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 60,
                              input=stdin)


def make_ctx(a):
    return Ctx(a)


@case
def boot_to_init_and_poweroff(ctx):
    p = ctx.boot(ctx.initramfs(), "labvisor.run=poweroff labvisor.hostname=box1", "--stats=json")
    expect(p.returncode == 0 and "labvisor-init: up in" in p.stdout,
           "the kernel boots to /init, which powers off cleanly", p.returncode, p.stdout[-3000:],
           p.stderr[-2000:])
    stats = p.stderr.strip().splitlines()[-1]
    expect('"end": "poweroff"' in stats or '"end":"poweroff"' in stats, "ended as poweroff", stats)
    expect("MPTABLE: OEM ID: LABVISOR" in p.stdout and "Processor #0 (Bootup-CPU)" in p.stdout
           and "IOAPIC[0]: apic_id 1" in p.stdout,
           "the kernel found the VMM's MP table: the boot CPU and the IOAPIC", p.stdout[:6000])


@case
def starter_script_runs(ctx):
    script = os.path.join(ctx.tmp, "start.sh")
    open(script, "w").write("#!/bin/sh\necho starter: $(hostname) $(id -u)\n")
    p = ctx.boot(ctx.initramfs("--init-script", script),
                 "labvisor.run=poweroff labvisor.hostname=student7")
    expect(p.returncode == 0 and "starter: student7 0" in p.stdout,
           "the starter script runs at boot, as root, with the hostname set", p.stdout[-3000:],
           p.stderr[-2000:])


@case
def console_input_reaches_the_shell(ctx):
    p = ctx.boot(ctx.initramfs(), "", stdin="echo typed-$((6*7))\npoweroff -f\n")
    expect(p.returncode == 0 and "typed-42" in p.stdout,
           "standard input types into the guest's console shell", p.returncode,
           p.stdout[-3000:], p.stderr[-2000:])


@case
def reboot_is_a_clean_stop(ctx):
    p = ctx.boot(ctx.initramfs(), "labvisor.run=reboot")
    expect(p.returncode == 0 and "rebooted" in p.stderr, "reboot -f ends the VM cleanly",
           p.returncode, p.stderr[-2000:])


@case
def panic_is_reported(ctx):
    # no /init: the kernel cannot find an init and panics
    empty = os.path.join(ctx.tmp, "empty.cpio")
    open(empty, "wb").write(b"")
    p = ctx.boot(empty, "rdinit=/nonexistent init=/nonexistent")
    expect(p.returncode == 3 and "panicked" in p.stderr and "Kernel panic" in p.stdout,
           "a kernel panic ends the VM with status 3, said so", p.returncode, p.stderr[-2000:],
           p.stdout[-2000:])


def lv(ctx, *args, stdin=None, timeout=300):
    return subprocess.run([ctx.labvisor, "vm", *args], capture_output=True, text=True,
                          input=stdin, timeout=timeout)


def runtime_dir():
    return "/run/labvisor/vms" if os.geteuid() == 0 else \
        os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"), "labvisor/vms")


def console_attach(ctx, name):
    """vm console: the running guest's shell answers; one client at a time."""
    import select
    c = subprocess.Popen([ctx.labvisor, "vm", "console", name], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        c.stdin.write(b"echo console-$((6*7))\n")
        c.stdin.flush()
        seen, deadline = b"", time.time() + 60
        while b"console-42" not in seen and time.time() < deadline:
            if select.select([c.stdout], [], [], 1)[0]:
                seen += os.read(c.stdout.fileno(), 4096)
        expect(b"console-42" in seen, "typed into the attached console, the shell answers",
               seen[-2000:])
        p = lv(ctx, "console", name, stdin="")
        expect(p.returncode == 1 and "another client" in p.stderr,
               "a second client is turned away", p.returncode, p.stderr)
    finally:
        c.stdin.close()
        c.wait(timeout=30)
    expect(c.returncode == 0, "the client leaves at the end of its input", c.returncode)
    time.sleep(0.5)
    p = lv(ctx, "console", name, stdin="")
    expect(p.returncode == 0, "after it left, the console can be attached again", p.returncode,
           p.stderr)


@case
def agent_exec_cp_and_exec_all(ctx):
    """Two VMs booted side by side and shared by every agent check."""
    names = ["lvt%d-a" % os.getpid(), "lvt%d-b" % os.getpid()]
    script = os.path.join(ctx.tmp, "start.sh")
    open(script, "w").write("#!/bin/sh\necho started-by-vm-run > /tmp/started\n")
    image = ctx.initramfs()
    procs = []
    for i, name in enumerate(names):
        extra = ["--init-script", script] if i == 0 else []
        procs.append(subprocess.Popen(
            [ctx.labvisor, "vm", "run", "--kernel", ctx.kernel, "--initrd", image, "--mem", "64M",
             "--append", "labvisor.hostname=" + name, "--name", name, "--console",
             os.path.join(ctx.tmp, name + ".log"), "--timeout", "900", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    a, b = names
    try:
        t0 = time.time()
        for name in names:
            p = lv(ctx, "exec", "--wait", "400", name, "--", "true", timeout=450)
            expect(p.returncode == 0, "the agent of %s answers once booted" % name,
                   p.returncode, p.stderr, open(os.path.join(ctx.tmp, name + ".log")).read()[-3000:])
        print("both agents answered after %.1f s" % (time.time() - t0))

        p = lv(ctx, "exec", a, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
        expect((p.returncode, p.stdout, p.stderr) == (7, "out\n", "err\n"),
               "stdout, stderr and the exit status come back apart", p.returncode, p.stdout,
               p.stderr)
        p = lv(ctx, "exec", "-i", a, "--", "tr", "a-z", "A-Z", stdin="hello\nworld\n")
        expect(p.returncode == 0 and p.stdout == "HELLO\nWORLD\n", "stdin reaches the command",
               p.returncode, p.stdout, p.stderr)
        p = lv(ctx, "exec", "-e", "FOO=bar baz", "-w", "/tmp", a, "--", "sh", "-c",
               'echo "$FOO" $(pwd) $PATH')
        expect(p.returncode == 0 and p.stdout.startswith("bar baz /tmp /"),
               "--env and --workdir", p.stdout, p.stderr)
        p = lv(ctx, "exec", a, "--", "sh", "-c", "kill -9 $$")
        expect(p.returncode == 137, "killed by signal 9 -> 137", p.returncode, p.stderr)
        p = lv(ctx, "exec", a, "--", "/no/such/program")
        expect(p.returncode == 255 and "No such file" in p.stderr and a in p.stderr,
               "a missing program: 255 and why", p.returncode, p.stderr)
        p = lv(ctx, "exec", a, "--", "nosuchapplet")
        expect(p.returncode == 255 and "No such file" in p.stderr,
               "a name neither PATH nor busybox has: 255 and why", p.returncode, p.stderr)
        p = lv(ctx, "exec", a, "--", "ls", "/bin", "/usr/bin")
        expect(p.returncode == 0 and p.stdout.split() == ["/bin:", "busybox", "sh",
                                                          "/usr/bin:", "env"],
               "no applet links but /bin/sh and /usr/bin/env, and the agent runs ls anyway",
               p.returncode, p.stdout, p.stderr)
        p = lv(ctx, "exec", a, "--", "sh", "-c", "ls /bin && hostname && date +%Y")
        expect(p.returncode == 0 and p.stdout.split()[:3] == ["busybox", "sh", a],
               "and so does the shell", p.returncode, p.stdout, p.stderr)
        p = lv(ctx, "exec", a, "--", "cat", "/tmp/started")
        expect(p.stdout == "started-by-vm-run\n", "vm run --init-script ran at boot", p.stdout,
               p.stderr)

        blob = os.urandom(300000)
        src = os.path.join(ctx.tmp, "blob.bin")
        back = os.path.join(ctx.tmp, "back.bin")
        open(src, "wb").write(blob)
        os.chmod(src, 0o640)
        p = lv(ctx, "cp", src, b + ":/tmp/blob.bin")
        expect(p.returncode == 0, "copy in", p.returncode, p.stderr)
        p = lv(ctx, "exec", b, "--", "sh", "-c", "stat -c %a /tmp/blob.bin; md5sum < /tmp/blob.bin")
        import hashlib
        expect(p.stdout.split() == ["640", hashlib.md5(blob).hexdigest(), "-"],
               "the copy arrived whole, with its mode", p.stdout, p.stderr)
        p = lv(ctx, "cp", b + ":/tmp/blob.bin", back)
        expect(p.returncode == 0 and open(back, "rb").read() == blob, "copy out, byte for byte",
               p.returncode, p.stderr)
        p = lv(ctx, "cp", b + ":/etc/nonexistent", back)
        expect(p.returncode == 255 and "No such file" in p.stderr and
               open(back, "rb").read() == blob, "a missing guest file: 255, the host file intact",
               p.returncode, p.stderr)
        p = lv(ctx, "cp", src, "nosuchvm:/tmp/x")
        expect(p.returncode == 255 and "nosuchvm" in p.stderr, "an unknown VM", p.returncode,
               p.stderr)

        p = lv(ctx, "exec", "--all", "--", "sh", "-c", "echo hi-$(hostname); echo oops >&2")
        for name in names:
            expect("[%s] hi-%s\n" % (name, name) in p.stdout and
                   "[%s] oops\n" % name in p.stderr and "[%s] exit 0" % name in p.stderr,
                   "exec --all runs in each VM, lines prefixed", p.stdout, p.stderr)
        expect(p.returncode == 0, "exec --all: 0 when all succeeded", p.returncode)
        p = lv(ctx, "exec", "--all", "--", "sh", "-c", "test $(hostname) = " + a)
        expect(p.returncode == 1 and "[%s] exit 0" % a in p.stderr and
               "[%s] exit 1" % b in p.stderr, "exec --all: 1 when one failed, each said",
               p.returncode, p.stderr)

        p = lv(ctx, "stats", a)
        expect(p.returncode == 0 and '"mmio"' in p.stdout, "live statistics", p.stdout)

        console_attach(ctx, b)
    finally:
        for name in names:
            lv(ctx, "stop", name)
        for pr in procs:
            try:
                out, err = pr.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                pr.kill()
                out, err = pr.communicate()
            expect(pr.returncode == 0 and "stopped" in err, "vm stop ends each VM cleanly",
                   pr.returncode, err[-2000:])
    left = [f for f in os.listdir(runtime_dir()) if f.startswith("lvt%d-" % os.getpid())]
    expect(not left, "no sockets left behind", left)


@case
def image_applet_links(ctx):
    """image build: busybox's applets as links only with --applet-links."""
    def listing(path):
        p = subprocess.run(["cpio", "-itv"], stdin=open(path, "rb"), capture_output=True,
                           text=True)
        return {l.split()[8]: l for l in p.stdout.splitlines()}
    image = ctx.initramfs()
    plain = listing(image)
    expect("bin/sh" in plain and "usr/bin/env" in plain and "bin/ls" not in plain,
           "by default /bin/sh and /usr/bin/env only", sorted(plain))
    names = subprocess.run(["cpio", "-i", "--to-stdout", "etc/labvisor/applets"],
                           stdin=open(image, "rb"), capture_output=True,
                           text=True).stdout.split()
    expect("ls" in names and "mount" in names and "busybox" not in names,
           "the applet names for the agent", names[:20])
    full = listing(ctx.initramfs("--applet-links"))
    expect(full.get("bin/ls", "").startswith("l") and "-> /bin/busybox" in full["bin/ls"] and
           len(full) > len(plain) + 200, "--applet-links: a link per applet", len(full),
           len(plain))


@case
def bad_kernel_files(ctx):
    junk = os.path.join(ctx.tmp, "junk")
    open(junk, "wb").write(b"\0" * 4096)
    for argv, what in [(["--kernel", junk], "not a Linux kernel"),
                       (["--kernel", "/nonexistent"], "No such file"),
                       (["--kernel", ctx.kernel, "--mem", "16M", "--initrd", "/bin/busybox"], None),
                       (["--kernel", ctx.kernel, "--mem", "4M"], "at least 8 MiB")]:
        p = subprocess.run([ctx.labvisor, "vm", "run", *argv], capture_output=True, text=True,
                           timeout=60)
        if what:
            expect(p.returncode == 2 and what in p.stderr and len(p.stderr.splitlines()) == 1,
                   "one clear line and status 2 for %s" % argv, p.returncode, p.stderr)


@case
def more_cpus_than_one(ctx):
    """--cpus 2: refused with the reason on PVM hosts; elsewhere in the MP table."""
    if os.path.exists("/sys/module/kvm_pvm"):
        p = subprocess.run([ctx.labvisor, "vm", "run", "--kernel", ctx.kernel, "--cpus", "2"],
                           capture_output=True, text=True, timeout=60)
        expect(p.returncode == 2 and "one vCPU only" in p.stderr and "vmcall" in p.stderr and
               len(p.stderr.splitlines()) == 1, "one clear line and status 2", p.returncode,
               p.stderr)
        return
    p = ctx.boot(ctx.initramfs(), "labvisor.run=poweroff", "--cpus", "2")
    expect(p.returncode == 0 and "Processor #1" in p.stdout,
           "both vCPUs are in the MP table (this kernel is built without SMP)", p.returncode,
           p.stdout[:6000])


def precondition(name):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not usable here"
    return None


if __name__ == "__main__":
    sys.exit(run(__doc__, make_ctx, ["--labvisor"], precondition))
