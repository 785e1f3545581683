#!/usr/bin/env python3
"""Linux guest boot: labvisor vm against QEMU (microvm machine, TCG) in the
same run, with the same kernel and initramfs and 64 MiB of RAM.

Prints the time to /init (host wall clock to the kernel's "Run /init" line),
the time to the agent's first reply (a PING over the VM's vsock socket), the
exits of one boot by reason, and each monitor's peak RSS (guest RAM it
touched included).  QEMU runs with TCG: QEMU with KVM hangs on PVM hosts, and
its vsock needs the host's vhost_vsock module, so its agent time is only
measured where /dev/vhost-vsock exists.

    bench/bench_linux.py --labvisor build/labvisor
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def kernel_dir():
    p = subprocess.run([os.path.join(ROOT, "scripts/build-kernel")], capture_output=True,
                       text=True, check=True)
    return os.path.dirname(p.stdout.strip().splitlines()[-1])


def watch(stream, marks, t0):
    """Timestamps of the first console line holding each mark."""
    seen = {}
    for line in iter(stream.readline, b""):
        for m in marks:
            if m not in seen and m.encode() in line:
                seen[m] = time.monotonic() - t0
    return seen


def ping(path, deadline):
    """Seconds until the agent behind a vsock socket answered a PING, or None."""
    while time.monotonic() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            s.connect(path)
            s.sendall(b"CONNECT 52\n")
            line = b""
            while not line.endswith(b"\n"):
                b = s.recv(1)
                if not b:
                    raise OSError("refused")
                line += b
            s.sendall(struct.pack("<B3xI", ord("p"), 0))
            hdr = s.recv(8)
            if len(hdr) == 8 and hdr[0] == ord("P"):
                return time.monotonic()
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return None


def run_labvisor(a, k, initrd):
    name = "bench-%d" % os.getpid()
    rt = "/run/labvisor/vms" if os.geteuid() == 0 else \
        os.path.join(os.environ["XDG_RUNTIME_DIR"], "labvisor/vms")
    t0 = time.monotonic()
    p = subprocess.Popen([a.labvisor, "vm", "run", "--kernel", os.path.join(k, "vmlinux"),
                          "--initrd", initrd, "--mem", "64M", "--name", name, "--stats=json",
                          "--timeout", "900"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marks = {}
    th = threading.Thread(target=lambda: marks.update(watch(p.stdout, ["Run /init"], t0)))
    th.start()
    replied = ping(os.path.join(rt, name + ".vsock"), t0 + 900)
    subprocess.run([a.labvisor, "vm", "stop", name], capture_output=True)
    _, status, ru = os.wait4(p.pid, 0)
    th.join()
    stats = json.loads(p.stderr.read().decode().strip().splitlines()[-1])
    return {"init": marks.get("Run /init"), "agent": replied and replied - t0,
            "rss_kib": ru.ru_maxrss, "stats": stats}


def run_qemu(a, k, initrd):
    t0 = time.monotonic()
    p = subprocess.Popen(["qemu-system-x86_64", "-M", "microvm", "-accel", "tcg", "-m", "64M",
                          "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
                          "-kernel", os.path.join(k, "bzImage"), "-initrd", initrd,
                          "-append", "console=ttyS0 reboot=t panic=-1 labvisor.run=reboot",
                          "-no-reboot"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marks = watch(p.stdout, ["Run /init", "labvisor-agent: listening"], t0)
    _, status, ru = os.wait4(p.pid, 0)
    return {"init": marks.get("Run /init"), "agent_listening": marks.get("labvisor-agent: listening"),
            "end": time.monotonic() - t0, "rss_kib": ru.ru_maxrss}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--labvisor", default=os.path.join(ROOT, "build/labvisor"))
    a = ap.parse_args()
    k = kernel_dir()
    tmp = tempfile.mkdtemp(prefix="lv-bench-linux-")
    initrd = os.path.join(tmp, "initramfs.cpio")
    subprocess.run([a.labvisor, "image", "build", "-o", initrd], check=True, capture_output=True)
    print("kernel %s, initramfs %d KiB, 64 MiB RAM" % (k, os.path.getsize(initrd) >> 10))
    ours = run_labvisor(a, k, initrd)
    try:
        qemu = run_qemu(a, k, initrd)
    except FileNotFoundError:
        qemu = None
        print("qemu-system-x86_64 is not installed (scripts/setup installs it): no peer")

    def fmt(x):
        return "%.2f s" % x if x is not None else "-"
    print("%-28s %14s %14s %8s" % ("", "labvisor", "qemu tcg", "ratio"))
    for label, ov, qv in [("time to /init", ours["init"], qemu and qemu["init"]),
                          ("first agent reply", ours["agent"], None)]:
        ratio = "%.1fx" % (ov / qv) if ov and qv else "-"
        print("%-28s %14s %14s %8s" % (label, fmt(ov), fmt(qv), ratio))
    if qemu:
        print("%-28s %14s %14s" % ("agent listening (console)", "-", fmt(qemu["agent_listening"])))
    print("%-28s %11.1f MiB %11.1f MiB" % ("peak RSS (incl. guest RAM)", ours["rss_kib"] / 1024,
                                          (qemu["rss_kib"] / 1024) if qemu else 0))
    if not os.path.exists("/dev/vhost-vsock"):
        print("qemu's first agent reply: not measured (no /dev/vhost-vsock on this host)")
    ex = ours["stats"]["reasons"] if "reasons" in ours["stats"] else []
    total = sum(r["count"] for r in ex)
    print("labvisor exits to the first agent reply: %d (%s)" % (total, ", ".join(
        "%s %d" % (r["name"], r["count"]) for r in ex if r["count"])))
    if os.path.isdir("/sys/module/kvm_pvm"):
        print("note: PVM host: the guest kernel runs in KVM's instruction emulator here; "
              "QEMU's TCG translates it instead, hence the ratio (see docs/linux-guests.md)")


if __name__ == "__main__":
    sys.exit(main())
