#!/usr/bin/env python3
"""Integration tests of `labvisor vm run` on the real /dev/kvm.

Each test case is one function below; meson registers every case as its own
test (`vm_test.py --list`).  Run one by hand:

    tests/integration/vm_test.py smp_4 --labvisor build/labvisor --guests build/guest

Exit status 77 (meson's "skipped") with the reason on stdout when /dev/kvm
cannot be used here; a test is never reported as passed without a guest run.
"""
import glob
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

from harness import CASES, case, expect, run

class Ctx:
    def __init__(self, labvisor, guests):
        self.labvisor = labvisor
        self.guests = guests

    def guest(self, name):
        return os.path.join(self.guests, name)

    def run(self, *args, timeout=60):
        """Runs labvisor vm run ARGS; returns (exit status, stdout, stderr)."""
        p = subprocess.run([self.labvisor, "vm", "run", *args], capture_output=True,
                           timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def stats_json(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("{")]
    expect(lines, "a JSON statistics line on stderr", stderr)
    return json.loads(lines[-1])


def reason(stats, name):
    return next(r for r in stats["reasons"] if r["name"] == name)


# ---- guests that behave ----------------------------------------------------

@case
def flat_hello(ctx):
    rc, out, err = ctx.run("--format", "flat", ctx.guest("hello.bin"))
    expect(rc == 0, "exit status 0", rc, err)
    expect(out == "Hello, world!\n", "the greeting on stdout", out)
    expect("halted: rax=42" in err, "the HLT RAX report", err)


@case
def elf_hello(ctx):
    rc, out, err = ctx.run(ctx.guest("hello.elf"))
    expect(rc == 0, "exit status 0", rc, err)
    expect(out == "Hello from a Labvisor guest (ABI 1, vcpu 0 of 1)\n", "greeting", out)


@case
def stats_json_counts_console_bytes(ctx):
    rc, out, err = ctx.run("--format", "flat", "--stats=json", ctx.guest("hello.bin"))
    expect(rc == 0, "exit status 0", rc, err)
    s = stats_json(err)
    msg = "Hello, world!\n"
    expect(reason(s, "console_io")["count"] == len(msg),
           "one port-0xE9 exit per byte (%d)" % len(msg), s)
    expect(reason(s, "hlt")["count"] == 1, "one HLT exit", s)
    expect(reason(s, "hypercall")["count"] == 0, "no hypercall", s)
    expect(reason(s, "console_io")["cycles"] > 0, "console exits were timed", s)
    expect(s["end"] == "halted" and s["vcpus"][0]["rax"] == 42, "end and RAX", s)
    vmm_exits = sum(r["count"] for r in s["reasons"] if r["name"] not in ("in_kernel", "signal"))
    expect(s["total"]["count"] >= vmm_exits, "total covers all reasons", s)
    if "exits" in s["kvm"]:
        expect(reason(s, "in_kernel")["reported"], "in-kernel exits reported with KVM stats", s)
        expect(s["total"]["count"] == max(s["kvm"]["exits"], vmm_exits), "total = KVM's count", s)


@case
def stats_table(ctx):
    rc, out, err = ctx.run("--format", "flat", "--stats", ctx.guest("hello.bin"))
    expect(rc == 0, "exit status 0", rc, err)
    expect(re.search(r"^exit reason\s+count\s+total us\s+mean us$", err, re.M), "header", err)
    expect(re.search(r"^console_io\s+14\s+[\d.]+\s+[\d.]+$", err, re.M), "console row", err)
    expect(re.search(r"^total\s+\d+\s+[\d.]+$", err, re.M), "total row", err)


@case
def exitstats_guest_reads_leaves(ctx):
    rc, out, err = ctx.run("--stats=json", ctx.guest("exitstats.elf"))
    expect(rc == 0, "exit status 0", rc, err)
    rows = {}
    for m in re.finditer(r"^(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+([0-9a-f]+)/([0-9a-f]+)$", out, re.M):
        rows[m.group(2)] = (int(m.group(3)), int(m.group(4)), m.group(5), m.group(6))
    expect(len(rows) == 10, "ten reason rows", out)
    expect(rows["console_io"][0] == 11, "the guest counted its 11 port-0xE9 bytes", out)
    expect(rows["console_io"][1] > 0, "cycles for console exits", out)
    expect(rows["hypercall"][0] >= 5 + 2, "at least its hypercalls so far", out)
    expect(rows["(undefined)"] == (0, 0, "0", "0"), "undefined reason: all zero", out)
    expect(rows["in_kernel"][3] == "ffffffff", "in-kernel cycles: never reported", out)
    total = int(re.search(r"^total exits: (\d+)$", out, re.M).group(1))
    expect(total >= 11 + 5 + 1, "total exits at least what it did", out)
    s = stats_json(err)
    expect(reason(s, "console_io")["count"] == 11, "host agrees on console exits", s)


def smp(ctx, n):
    rc, out, err = ctx.run("--cpus", str(n), ctx.guest("smp.elf"), timeout=120)
    expect(rc == 0, "exit status 0", rc, out, err)
    seen = re.findall(r"^vcpu (\d+) of (\d+): counter is now (\d+)$", out, re.M)
    expect(sorted(int(i) for i, _, _ in seen) == list(range(n)), "each vCPU once", out)
    expect(all(int(c) == n for _, c, _ in seen), "each knows the count", out)
    expect(sorted(int(v) for _, _, v in seen) == list(range(1, n + 1)),
           "atomic increments give 1..N", out)
    expect(("all %d vcpus counted: counter = %d\n" % (n, n)) in out, "final count", out)


for _n in (1, 2, 4, 8):
    CASES["smp_%d" % _n] = (lambda n: lambda ctx: smp(ctx, n))(_n)


@case
def filecopy(ctx):
    with tempfile.TemporaryDirectory() as share:
        data = os.urandom(20000)
        with open(os.path.join(share, "input.txt"), "wb") as f:
            f.write(data)
        rc, out, err = ctx.run("--share", share, ctx.guest("filecopy.elf"))
        expect(rc == 0, "exit status 0", rc, out, err)
        with open(os.path.join(share, "copy.txt"), "rb") as f:
            expect(f.read() == data, "copy.txt equals input.txt")
        expect("copied 20000 bytes" in out, "report", out)
        expect("  input.txt\n" in out and "  copy.txt\n" in out, "directory listing", out)


@case
def filecopy_without_share(ctx):
    rc, out, err = ctx.run(ctx.guest("filecopy.elf"))
    expect(rc == 1, "exit status 1 from the guest", rc, out, err)
    expect("no shared folder (-19)" in out, "ENODEV reported to the guest", out)


# ---- hostile guests ------------------------------------------------------------

@case
def fs_escape(ctx):
    with tempfile.TemporaryDirectory() as top:
        share = os.path.join(top, "share")
        os.makedirs(os.path.join(share, "sub"))
        with open(os.path.join(top, "outside.txt"), "w") as f:
            f.write("secret")
        with open(os.path.join(share, "inside.txt"), "w") as f:
            f.write("inside")
        os.symlink("../outside.txt", os.path.join(share, "link_out"))
        os.mkfifo(os.path.join(share, "fifo"))
        rc, out, err = ctx.run("--share", share, ctx.guest("fs_escape.elf"), timeout=30)
        expect(rc == 0, "exit status 0", rc, out, err)
        want = {
            "open ../outside.txt": -18, "open /etc/passwd": -18,
            "open sub/../../outside.txt": -18, "open link_out": -18,
            "open fifo": -13, "open sub": -21, "open <4105-byte path>": -36,
            "unlink ../outside.txt": -18, "unlink sub/..": -22, "read fd -1": -9,
            "read fd 1000000": -9, "bad flags": -22, "close twice": -9,
        }
        got = dict((k, int(v)) for k, v in re.findall(r"^(.*): (-?\d+)$", out, re.M))
        for k, v in want.items():
            expect(got.get(k) == v, "%s gives %d" % (k, v), out)
        expect("opened 64, then: -24" in out, "descriptor table bounded at 64", out)
        expect(open(os.path.join(top, "outside.txt")).read() == "secret", "outside intact")
        expect(sorted(os.listdir(top)) == ["outside.txt", "share"], "nothing created outside")


@case
def bad_hypercalls_return_errors(ctx):
    rc, out, err = ctx.run(ctx.guest("bad_hypercall.elf"))
    expect(rc == 0, "the guest survives", rc, out, err)
    for line in ("wrapping buffer: -14", "buffer beyond RAM: -14", "huge length: -14",
                 "unknown hypercall: -38", "read without share: -19", "bad leaf: -22",
                 "undefined reason: 0 0 0 0", "still alive"):
        expect(line + "\n" in out, line, out)


@case
def bad_argument_block_ends_vm(ctx):
    rc, out, err = ctx.run(ctx.guest("bad_argblock.elf"))
    expect(rc == 1, "exit status 1", rc, err)
    expect("not reached" not in out, "the guest did not go on", out)
    expect("argument block at guest-physical 0xfffffff0" in err and "rip=0x" in err,
           "address and registers in the error", err)


@case
def narrow_hypercall_port_write(ctx):
    rc, out, err = ctx.run(ctx.guest("narrow_hypercall.elf"))
    expect(rc == 1 and "other than one 32-bit outl" in err, "a clear guest fault", rc, err)
    expect("not reached" not in out, "the guest stopped", out)


@case
def triple_fault(ctx):
    rc, out, err = ctx.run(ctx.guest("triple_fault.elf"))
    expect(rc == 1, "exit status 1", rc, err)
    expect("triple fault" in err and re.search(r"rip=0x10[0-9a-f]{4}", err), "reason and RIP", err)


@case
def int3_without_idt(ctx):
    rc, out, err = ctx.run(ctx.guest("int3.elf"))
    expect(rc == 1, "exit status 1", rc, out, err)
    # VT-x/AMD-V: #BP with no IDT is a triple fault.  PVM: KVM cannot emulate it.
    expect("triple fault" in err or "instruction bytes: cc" in err, "named cause", err)
    expect("rip=0x10" in err and "not reached" not in out, "registers, and stopped", out, err)


@case
def wild_write(ctx):
    rc, out, err = ctx.run(ctx.guest("wild_write.elf"))
    expect(rc == 1, "exit status 1", rc, err)
    expect("write of 4 bytes at guest-physical 0x20000000" in err, "the address", err)
    expect("not reached" not in out, "the guest stopped", out)


@case
def page_tables_are_read_only(ctx):
    rc, out, err = ctx.run(ctx.guest("sys_write.elf"))
    expect(rc == 1, "exit status 1", rc, out, err)
    expect("write of 8 bytes at guest-physical 0x40001000, in the VMM's read-only" in err,
           "the write to the system area is refused and named", err)
    expect("not reached" not in out, "the guest stopped", out)


@case
def timeout_stops_spinning_guest(ctx):
    t0 = time.monotonic()
    rc, out, err = ctx.run("--timeout", "0.5", "--cpus", "2", ctx.guest("spin.elf"))
    took = time.monotonic() - t0
    expect(rc == 124, "exit status 124", rc, err)
    expect("timeout" in err and "0.5 s" in err, "says it timed out", err)
    expect(0.5 <= took < 10, "stopped after 0.5 s, promptly (%.2f s)" % took)


@case
def profile_samples_where_the_guest_runs(ctx):
    """--profile: the spinning guest's RIP samples fall in its main()."""
    syms = {}
    for line in subprocess.run(["nm", "-n", ctx.guest("spin.elf")], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        addr, _, name = line.split()
        syms[name] = int(addr, 16)
    after_main = min(a for a in syms.values() if a > syms["main"])
    with tempfile.TemporaryDirectory(prefix="lv-prof-") as d:
        path = os.path.join(d, "prof.txt")
        rc, out, err = ctx.run("--timeout", "1", "--cpus", "2", "--profile", path,
                               ctx.guest("spin.elf"))
        expect(rc == 124, "stopped by the timeout", rc, err)
        text = open(path).read()
    header = text.splitlines()[0]
    expect(re.match(r"# labvisor guest profile: \d+ samples .* 2 vCPU\(s\)$", header),
           "a header naming the samples and both vCPUs", header)
    rows = [l.split() for l in text.splitlines() if not l.startswith("#")]
    total = sum(int(c) for c, _ in rows)
    in_main = sum(int(c) for c, rip in rows if syms["main"] <= int(rip, 16) < after_main)
    expect(int(header.split()[4]) == total, "the header's count is the sum of the rows", text)
    expect(total >= 40, "about 100 samples a second per vCPU over 1 s (%d)" % total, text)
    expect(in_main >= 0.9 * total, "the samples are in main() (%d of %d)" % (in_main, total),
           text)
    rc, out, err = ctx.run("--profile", "/nonexistent-dir/p.txt", ctx.guest("spin.elf"))
    expect(rc == 2 and "--profile /nonexistent-dir/p.txt" in err,
           "an unwritable profile file is refused before the run", rc, err)


@case
def named_vm_list_stats_stop(ctx):
    rt = own_rt = tempfile.mkdtemp(prefix="lv-vms-")
    env = dict(os.environ, XDG_RUNTIME_DIR=rt)
    name = "spin-%d" % os.getpid()
    cli = lambda *a: subprocess.run([ctx.labvisor, "vm", *a], capture_output=True, text=True,
                                    env=env, timeout=30)
    if os.geteuid() == 0:       # root's runtime folder is /run/labvisor/vms
        rt = "/run/labvisor"
    vm = subprocess.Popen([ctx.labvisor, "vm", "run", "--name", name, "--timeout", "60",
                           ctx.guest("spin.elf")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(100):
            if name in cli("list").stdout:
                break
            time.sleep(0.05)
        expect(name in cli("list").stdout, "vm list shows the named VM", cli("list"))
        again = cli("run", "--name", name, ctx.guest("spin.elf"))
        expect(again.returncode == 2 and "already running" in again.stderr and
               len(again.stderr.splitlines()) == 1, "a name in use: one line, status 2", again)
        stats = json.loads(cli("stats", name).stdout)
        expect(stats["exits"]["hypercall"] >= 1, "vm stats reads live exit statistics", stats)
        stop = cli("stop", name)
        expect(stop.returncode == 0, "vm stop", stop)
        out, err = vm.communicate(timeout=30)
        expect(vm.returncode == 0 and "stopped through its control socket" in err,
               "the VM ends cleanly when stopped", vm.returncode, err)
        expect(not glob.glob(os.path.join(rt, "labvisor/vms", name + ".sock")) and
               not glob.glob(os.path.join(rt, "vms", name + ".sock")),
               "its control socket is removed")
        gone = cli("stats", name)
        expect(gone.returncode == 1 and "no VM named" in gone.stderr, "a stopped VM is gone", gone)
        sock_dir = "/run/labvisor/vms" if os.geteuid() == 0 else os.path.join(rt, "labvisor/vms")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(os.path.join(sock_dir, name + ".sock"))      # a dead VM's leftover
        stale.close()
        reuse = cli("run", "--name", name, "--timeout", "0.3", ctx.guest("spin.elf"))
        expect(reuse.returncode == 124 and not glob.glob(os.path.join(sock_dir, name + ".sock")),
               "a stale socket is replaced, and removed at the end", reuse)
        bad = cli("run", "--name", "../evil", ctx.guest("spin.elf"))
        expect(bad.returncode == 2 and "VM name" in bad.stderr, "a bad name is refused", bad)
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        shutil.rmtree(own_rt, ignore_errors=True)


# ---- files that are not guests, and bad options ---------------------------------

@case
def hostile_virtio_driver(ctx):
    # a bare guest breaks the vsock device's queues eleven ways, then uses it properly
    rc, out, err = ctx.run("--vsock", ctx.guest("virtio_hostile.elf"), timeout=300)
    expect(rc == 0 and "the device survived" in out, "the VMM runs on through every broken "
           "queue, and the device works after a reset", rc, out, err)
    expect(out.count("needs reset after") == 11 and err.count("needs a reset by its driver") == 11,
           "each violation marks the device DEVICE_NEEDS_RESET, said once on stderr", out, err)
    for why in ["descriptor index 200 outside a queue of 8", "longer than the queue",
                "outside guest RAM", "ran 1000 entries ahead", "shorter than its header",
                "indirect", "a ring lies outside guest RAM", "smaller than a packet header",
                "queue size 128 is above QueueNumMax 64"]:
        expect(why in err, "the VMM names the violation: " + why, err)
    rc, out, err = ctx.run(ctx.guest("virtio_hostile.elf"))
    expect(rc == 1 and "no virtio-vsock device" in out, "without --vsock, no device", rc, out)


@case
def not_elf(ctx):
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("just text\n")
        f.flush()
        rc, out, err = ctx.run(f.name)
    expect(rc == 2, "exit status 2", rc, err)
    expect("not an ELF file" in err and "--format flat" in err, "clear message", err)


@case
def elf32_refused(ctx):
    hdr = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) + struct.pack("<HHI", 2, 3, 1) + bytes(40)
    with tempfile.NamedTemporaryFile(suffix=".elf") as f:
        f.write(hdr)
        f.flush()
        rc, out, err = ctx.run(f.name)
    expect(rc == 2 and "32-bit" in err, "32-bit ELF refused", rc, err)


@case
def pie_refused(ctx):
    true = shutil.which("true")
    rc, out, err = ctx.run(os.path.realpath(true))
    expect(rc == 2 and "position-independent" in err, "a PIE host binary is refused", rc, err)


@case
def guest_larger_than_memory(ctx):
    rc, out, err = ctx.run("--mem", "1M", ctx.guest("hello.elf"))
    expect(rc == 2 and "guest larger than its memory" in err, "too-small --mem", rc, err)
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(bytes(200 << 10))
        f.flush()
        rc, out, err = ctx.run("--format", "flat", "--mem", "128K", f.name)
    expect(rc == 2 and "guest larger than its memory" in err, "flat image too big", rc, err)


@case
def bad_options(ctx):
    for args, needle in ((["--mem", "0"], "--mem"), (["--mem", "12Q"], "--mem"),
                         (["--cpus", "100"], "--cpus"), (["--format", "pe"], "--format"),
                         (["--timeout", "-1"], "--timeout"), (["--stats=xml"], "--stats"),
                         (["--mem", "100000"], "multiple of 4 KiB"),
                         ([], "expected one GUEST"), (["/nonexistent/guest.elf"], "/nonexistent")):
        guest = [] if args == [] or args[0].startswith("/") else [ctx.guest("hello.elf")]
        rc, out, err = ctx.run(*args, *guest)
        expect(rc == 2 and needle in err, "%s refused with a message" % args, rc, err)


@case
def help_texts(ctx):
    for argv in (["--help"], ["vm", "--help"], ["vm", "run", "--help"]):
        p = subprocess.run([ctx.labvisor, *argv], capture_output=True, text=True)
        expect(p.returncode == 0 and "Usage: labvisor" in p.stdout, "help for %s" % argv, p)
    p = subprocess.run([ctx.labvisor, "frobnicate"], capture_output=True, text=True)
    expect(p.returncode == 2 and "unknown command" in p.stderr, "unknown command", p)


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
        return None
    except OSError as e:
        return "/dev/kvm is not usable here (%s)" % e.strerror


NEEDS_NO_KVM = {"help_texts"}


def precondition(name):
    return None if name in NEEDS_NO_KVM else kvm_usable()


if __name__ == "__main__":
    sys.exit(run(__doc__, lambda a: Ctx(a.labvisor, a.guests), ["--labvisor", "--guests"],
                 precondition))
