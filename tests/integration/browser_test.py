#!/usr/bin/env python3
"""Browser tests of the web UI: each case starts `labvisor serve --demo` on
SQLite, prepares what the flow needs through the API, and runs one flow of
tests/browser/flows.mjs (Playwright driving Debian's chromium).  Screenshots
are kept in --shots (meson: build/meson-logs/screenshots).
"""
import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile

from harness import CASES, Skip, expect, run
import platform_test as pt

CASES.clear()           # platform_test's cases are its own; these are the browser's

HERE = os.path.dirname(os.path.abspath(__file__))
FLOWS = os.path.join(HERE, "../browser/flows.mjs")


class Ctx(pt.Ctx):
    def __init__(self, a):
        a.db = "sqlite"
        super().__init__(a)
        self.shots = os.path.abspath(a.shots)
        os.makedirs(self.shots, exist_ok=True)

    def flow(self, name, *extra):
        p = subprocess.run(["node", FLOWS, name, "--base", self.base, "--shots", self.shots, *extra],
                           capture_output=True, text=True, timeout=600)
        if p.returncode == 77:
            raise Skip(p.stdout.strip())
        expect(p.returncode == 0, "browser flow %s" % name, p.stdout, p.stderr)


def make_ctx(a):
    return Ctx(a)


@pt.with_ctx
def student_submits(ctx):
    ctx.serve(workers=1)
    path = os.path.join(ctx.tmp, "sum.c")
    open(path, "w").write(pt.SUM_C)
    ctx.flow("student_submits", "--submission", path)


@pt.with_ctx
def ta_overrides_regrades_exports(ctx):
    pt.graded_submission(ctx)
    ctx.flow("ta_overrides_regrades_exports")


@pt.with_ctx
def instructor_uploads(ctx):
    ctx.serve(workers=1)
    path = os.path.join(ctx.tmp, "c-sum.tar.gz")
    open(path, "wb").write(pt.tar_gz(os.path.join(ctx.examples, "c-sum/")))
    ctx.flow("instructor_uploads", "--assignment", path)


def precondition(name):
    if os.geteuid() != 0:
        return "the platform's tests run as root (sandboxes and cgroups need it here)"
    if not shutil.which("node"):
        return "Node.js is not installed (scripts/setup installs it)"
    if not os.path.isdir(os.path.join(HERE, "../browser/node_modules/playwright-core")):
        return "playwright-core is not installed (scripts/setup runs npm ci in tests/browser)"
    return None


if __name__ == "__main__":
    sys.exit(run(__doc__, make_ctx, ["--labvisor", "--examples", "--shots"], precondition))
