#!/usr/bin/env python3
"""Benchmark of the platform, on loopback, SQLite (the default store):

  (a) wrk against the submission-status endpoint (GET /api/submissions/N,
      authorization and the student's filtered view included): requests/s
      and p99 latency, next to wrk against a static file of the same server
      (the HTTP layer alone, the peer in the same run);
  (b) `labvisor serve` with 2 workers grading the C example (build + 10 io
      tests) for a burst of submissions: submissions graded per minute, and
      p50/p99 from upload to result.

Usage: bench/bench_platform.py [--labvisor build/labvisor] [--submissions N]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
import platform_test as pt  # noqa: E402


def wrk(url, headers, seconds=5, threads=2, conns=16):
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency", url]
    for h in headers:
        argv[1:1] = ["-H", h]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit("bench: %s answered errors:\n%s" % (url, out))
    return rps, float(p99.group(1)) * scale


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labvisor", default=os.path.join(HERE, "../build/labvisor"))
    ap.add_argument("--examples", default=os.path.join(HERE, "../examples"))
    ap.add_argument("--submissions", type=int, default=40)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (scripts/setup installs it): skipping the platform benchmark")
        return 0
    ctx = pt.Ctx(argparse.Namespace(labvisor=a.labvisor, examples=a.examples, db="sqlite"))
    try:
        ctx.serve(workers=0)
        student = ctx.client("student")
        token = student.call("POST", "/tokens", {"name": "bench"})[1]["token"]
        sid = pt.submit(student, 1, [pt.sum_c()])
        auth = ["Authorization: Bearer " + token]
        rps, p99 = wrk(ctx.base + "/api/submissions/%d" % sid, auth)
        srps, sp99 = wrk(ctx.base + "/style.css", [])
        print("(a) GET /api/submissions/N: %.0f requests/s, p99 %.2f ms; static file of the same "
              "server: %.0f requests/s, p99 %.2f ms -> %.2fx its rate" % (rps, p99, srps, sp99, rps / srps))
        ctx.kill_server()
        # (b) a burst of uploads, graded by serve's 2 workers
        ctx.serve(workers=2, demo=False)
        student = ctx.client("student")
        t0 = time.time()
        sent = {}
        for _ in range(a.submissions):
            sent[pt.submit(student, 1, [pt.sum_c()])] = time.time()
        done = {}
        while len(done) < len(sent) and time.time() - t0 < 900:
            for s in student.call("GET", "/assignments/1/submissions")[1]:
                if s["id"] in sent and s["status"] in ("graded", "error") and s["id"] not in done:
                    done[s["id"]] = time.time()
            time.sleep(0.05)
        elapsed = max(done.values()) - t0
        lat = [done[i] - sent[i] for i in done]
        print("(b) %d submissions of the C example, 2 workers: %.0f graded per minute; upload to "
              "result p50 %.2f s, p99 %.2f s" % (len(done), len(done) / elapsed * 60,
                                                  percentile(lat, 50), percentile(lat, 99)))
        print("RESULT status_rps=%.0f status_p99_ms=%.2f static_rps=%.0f per_minute=%.0f "
              "p50_s=%.2f p99_s=%.2f" % (rps, p99, srps, len(done) / elapsed * 60,
                                         percentile(lat, 50), percentile(lat, 99)))
    finally:
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
