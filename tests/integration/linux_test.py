#!/usr/bin/env python3
"""Integration tests of Linux guests under `labvisor vm run --kernel`: the
project's kernel (scripts/build-kernel) and initramfs (`labvisor image
build`) booted on the real /dev/kvm.  A boot costs seconds on PVM hosts.

    tests/integration/linux_test.py boot_to_init_and_poweroff --labvisor build/labvisor
"""
import os
import subprocess
import sys
import tempfile

from harness import Skip, case, expect, run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "../..")


class Ctx:
    def __init__(self, a):
        self.labvisor = os.path.abspath(a.labvisor)
        self.tmp = tempfile.mkdtemp(prefix="lv-linux-")
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


def precondition(name):
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not usable here"
    return None


if __name__ == "__main__":
    sys.exit(run(__doc__, make_ctx, ["--labvisor"], precondition))
