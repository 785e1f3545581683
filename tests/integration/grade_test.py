#!/usr/bin/env python3
"""Integration tests of `labvisor grade`: the example course graded for real.

Every case grades with real sandboxes and asserts exact scores.  One case by
hand, as root:

    tests/integration/grade_test.py c_sum_scores --labvisor build/labvisor --examples examples
"""
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from harness import case, expect, run


class Ctx:
    def __init__(self, labvisor, examples):
        self.labvisor = os.path.abspath(labvisor)
        self.examples = os.path.abspath(examples)

    def grade(self, assignment, submission, *extra):
        """Grades; returns (exit status, results.json or None, stdout, stderr)."""
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "results.json")
            p = subprocess.run([self.labvisor, "grade", "--json", out, *extra,
                                os.path.join(self.examples, assignment), submission],
                               capture_output=True, text=True, timeout=600)
            res = json.load(open(out)) if os.path.exists(out) else None
        return p.returncode, res, p.stdout, p.stderr

    def solution(self, assignment, name):
        return os.path.join(self.examples, assignment, "solutions", name)


def scores(res):
    return {t["name"]: t["score"] for t in res["tests"]}


def statuses(res):
    return {t["labvisor_status"] for t in res["tests"]}


def close(a, b):
    return a is not None and abs(a - b) < 1e-3


# ---- the example course, with exact scores ---------------------------------------

C_SUM = {"reference": 100, "wrong-overflow": 90, "wrong-format": 10, "compile-error": 0}
OS_ALLOC = {"reference": 100, "no-reuse": 44.125, "misaligned": 73.209, "dirty-calloc": 90}
PY_GRADESCOPE = {"reference": 50, "off-by-one": 10, "syntax-error": 0, "slow": 30}
PY_IO = {"reference": 20, "wrong": 15}


@case
def c_sum_scores(ctx):
    for name, want in C_SUM.items():
        rc, res, out, err = ctx.grade("c-sum", ctx.solution("c-sum", name))
        expect(rc == 0 and close(res["score"], want), "%s scores %g" % (name, want), rc,
               res and res["score"], out, err)
        expect(res["max_score"] == 100, "out of 100", res)
    rc, res, out, err = ctx.grade("c-sum", ctx.solution("c-sum", "compile-error"))
    expect(res["labvisor"]["build_failed"] and statuses(res) == {"build_failed"}, "build failed", res)
    expect("error: expected ';'" in res["output"], "the compiler's output for the student", res)


@case
def os_alloc_scores(ctx):
    for name, want in OS_ALLOC.items():
        rc, res, out, err = ctx.grade("os-alloc", ctx.solution("os-alloc", name), "--jobs", "2")
        expect(rc == 0 and close(res["score"], want), "%s scores %g" % (name, want), rc,
               res and res["score"], out, err)
    rc, res, out, err = ctx.grade("os-alloc", ctx.solution("os-alloc", "no-reuse"))
    s = scores(res)
    expect(s["unit tests"] == 20, "per-case points of the TAP framework test", s)
    expect(0 < s["stress (hidden)"] < 30, "partial credit from the checker", s)


@case
def gradescope_autograder(ctx):
    # The first run may build the Debian 12 base image and the autograder's layer.
    for name, want in PY_GRADESCOPE.items():
        rc, res, out, err = ctx.grade("py-gradescope", ctx.solution("py-gradescope", name))
        expect(rc == 0 and close(res["score"], want), "%s scores %g" % (name, want), rc,
               res and res["score"], out, err[-3000:])
        expect(res["max_score"] == 50 and len(res["tests"]) == 4, "tests from results.json", res)
    hidden = [t for t in res["tests"] if t["visibility"] == "hidden"]
    expect(len(hidden) == 1 and hidden[0]["output"] == "(hidden test)\n", "hidden stays hidden", hidden)
    rc, res, out, err = ctx.grade("py-gradescope", ctx.solution("py-gradescope", "off-by-one"))
    expect("setup.sh" not in err and "base image" not in err, "the image is cached", err[-2000:])
    outputs = {t["name"]: t["output"] for t in res["tests"]}
    expect("10946 != 6765" in outputs["fib(20)"], "unittest's message reaches the student", outputs)
    left_behind(ctx)


@case
def unreachable_mirror_is_not_a_grade(ctx):
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, LABVISOR_DATA=data, LABVISOR_DEBIAN_MIRROR="http://127.0.0.1:9/debian")
        p = subprocess.run([ctx.labvisor, "grade", "--quiet", os.path.join(ctx.examples, "py-gradescope"),
                            ctx.solution("py-gradescope", "reference")],
                           capture_output=True, text=True, env=env, timeout=300)
        expect(p.returncode == 3 and "debootstrap of the Debian 12 base image failed" in p.stdout
               and "not a grade" in p.stdout, "a clear infrastructure error", p.returncode, p.stdout)
        expect(os.listdir(os.path.join(data, "images")) == ["debian-12.lock"],
               "no half-built image left", os.listdir(os.path.join(data, "images")))


@case
def yaml_assignment_on_image(ctx):
    for name, want in PY_IO.items():
        rc, res, out, err = ctx.grade("py-io", ctx.solution("py-io", name))
        expect(rc == 0 and close(res["score"], want), "%s scores %g" % (name, want), rc,
               res and res["score"], out, err[-3000:])


@case
def hostile_submissions(ctx):
    for name, status in (("infinite-loop", "time_limit"), ("fork-bomb", "time_limit"),
                         ("huge-output", "output_limit")):
        rc, res, out, err = ctx.grade("c-sum", ctx.solution("c-sum", name), "--jobs", "2")
        expect(rc == 0 and res["score"] == 0, name + " scores 0", res and res["score"], err)
        expect(statuses(res) == {status}, "%s: every test %s" % (name, status), statuses(res))
    left_behind(ctx)


@case
def interrupted_grading_cleans_up(ctx):
    import signal
    import time
    p = subprocess.Popen([ctx.labvisor, "grade", "--jobs", "2",
                          os.path.join(ctx.examples, "c-sum"), ctx.solution("c-sum", "infinite-loop")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    expect(p.returncode == 3 and "not a grade" in out, "an infrastructure error, not a zero",
           p.returncode, out, err)
    left_behind(ctx)


@case
def hidden_tests_stay_hidden(ctx):
    rc, res, out, err = ctx.grade("c-sum", ctx.solution("c-sum", "wrong-overflow"))
    hidden = [t for t in res["tests"] if t["visibility"] == "hidden"]
    expect(len(hidden) == 1 and hidden[0]["score"] == 0, "the hidden test failed", hidden)
    student = json.dumps(res["tests"])
    for secret in ("4000000000", "7999999999", "-589934593"):
        expect(secret not in student, "hidden input/output in the student's part", secret)
    staff = json.dumps(res["labvisor"]["staff"])
    expect("7999999999" in staff, "the staff see the hidden diff", staff)


@case
def archives_and_single_files(ctx):
    ref = ctx.solution("c-sum", "reference")
    with tempfile.TemporaryDirectory() as d:
        z = os.path.join(d, "sub.zip")
        with zipfile.ZipFile(z, "w") as f:
            f.write(os.path.join(ref, "sum.c"), "sum.c")
        t = os.path.join(d, "sub.tar.gz")
        with tarfile.open(t, "w:gz") as f:
            f.add(os.path.join(ref, "sum.c"), "sum.c")
        for sub in (z, t, os.path.join(ref, "sum.c")):
            rc, res, out, err = ctx.grade("c-sum", sub)
            expect(rc == 0 and res["score"] == 100, "graded from " + os.path.basename(sub),
                   res and res["score"], err)


def tar_with(d, name, add):
    path = os.path.join(d, name)
    with tarfile.open(path, "w:gz") as f:
        add(f)
    return path


def add_file(f, name, data=b"int main(void) { return 0; }\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    f.addfile(info, io.BytesIO(data))


def add_special(f, name, kind, target=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    f.addfile(info)


@case
def hostile_archives(ctx):
    with tempfile.TemporaryDirectory() as d:
        bomb = os.path.join(d, "bomb.zip")
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as f:
            f.writestr("sum.c", b"\0" * (20 << 20))
        many = os.path.join(d, "many.zip")
        with zipfile.ZipFile(many, "w") as f:
            for i in range(1100):
                f.writestr("f%d.c" % i, b"x")
        cases = {
            "dotdot": (tar_with(d, "a.tar.gz", lambda f: add_file(f, "../../escape.c")),
                       "leaves the submission folder"),
            "absolute": (tar_with(d, "b.tar.gz", lambda f: add_file(f, "/tmp/abs.c")),
                         "leaves the submission folder"),
            "symlink": (tar_with(d, "c.tar.gz", lambda f: add_special(f, "etc", tarfile.SYMTYPE, "/etc")),
                        "outside the submission"),
            "symlink-up": (tar_with(d, "d.tar.gz", lambda f: add_special(f, "up", tarfile.SYMTYPE, "../../..")),
                           "outside the submission"),
            "hardlink": (tar_with(d, "e.tar.gz", lambda f: add_special(f, "pw", tarfile.LNKTYPE, "/etc/passwd")),
                         "hard link"),
            "device": (tar_with(d, "f.tar.gz", lambda f: add_special(f, "null", tarfile.CHRTYPE)),
                       "character device"),
            "fifo": (tar_with(d, "g.tar.gz", lambda f: add_special(f, "pipe", tarfile.FIFOTYPE)),
                     "FIFO"),
            "bomb": (bomb, "expands past 256 KiB"),
            "many": (many, "more than 1000 files"),
            "link-then-write": (tar_with(d, "h.tar.gz", lambda f: (
                add_special(f, "x", tarfile.SYMTYPE, "."), add_file(f, "x/../../../tmp/lv-pwned.c"))),
                "leaves the submission folder"),
            "write-through-link": (tar_with(d, "i.tar.gz", lambda f: (
                add_special(f, "x", tarfile.SYMTYPE, "."), add_file(f, "x/evil.c"))),
                "a link in the way"),
        }
        for name, (path, needle) in cases.items():
            rc, res, out, err = ctx.grade("c-sum", path)
            expect(rc == 0 and res["score"] == 0 and statuses(res) == {"rejected"},
                   "%s: rejected" % name, rc, res, err)
            expect(needle in res["labvisor"]["rejected"], "%s: says '%s'" % (name, needle),
                   res["labvisor"]["rejected"])
        expect(not os.path.exists("/tmp/escape.c") and not os.path.exists("/tmp/abs.c")
               and not os.path.exists("/tmp/lv-pwned.c"), "nothing written outside")
    left_behind(ctx)


@case
def archived_assignments(ctx):
    with tempfile.TemporaryDirectory() as d:
        z = os.path.join(d, "c-sum.zip")
        with zipfile.ZipFile(z, "w") as f:      # one top-level folder, as people zip them
            for root, _, files in os.walk(os.path.join(ctx.examples, "c-sum")):
                for name in files:
                    path = os.path.join(root, name)
                    f.write(path, os.path.relpath(path, ctx.examples))
        rc, res, out, err = ctx.grade(z, ctx.solution("c-sum", "wrong-overflow"))
        expect(rc == 0 and res["score"] == 90, "a zipped assignment grades the same", res, err)
        t = os.path.join(d, "autograder.tar.gz")
        with tarfile.open(t, "w:gz") as f:     # Gradescope's files at the top level
            for name in os.listdir(os.path.join(ctx.examples, "py-gradescope")):
                if name != "solutions":
                    f.add(os.path.join(ctx.examples, "py-gradescope", name), name)
        rc, res, out, err = ctx.grade(t, ctx.solution("py-gradescope", "off-by-one"))
        expect(rc == 0 and res["score"] == 10, "an archived autograder grades the same", res, err[-2000:])
    expect(not glob.glob("/tmp/labvisor-assignment-*"), "unpacked assignments removed")


@case
def missing_required_file(ctx):
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "other.c"), "w").write("int main(){}")
        rc, res, out, err = ctx.grade("c-sum", d)
        expect(res["score"] == 0 and "has no sum.c" in res["labvisor"]["rejected"], "rejected", res)


@case
def late_policy(ctx):
    ref = ctx.solution("c-sum", "reference")
    rc, res, out, err = ctx.grade("c-sum", ref, "--submitted-at", "2026-12-03T10:00:00Z")
    expect(res["labvisor"]["late_days"] == 2 and close(res["score"], 80), "2 days late: -20%", res)
    rc, res, out, err = ctx.grade("c-sum", ref, "--submitted-at", "2026-12-06T00:00:00Z")
    expect(res["score"] == 0 and res["labvisor"]["late_penalty_pct"] == 100, "past the cutoff", res)
    rc, res, out, err = ctx.grade("c-sum", ref, "--submitted-at", "2026-12-01T23:00:00Z")
    expect(res["score"] == 100 and res["labvisor"]["late_days"] == 0, "on time", res)


@case
def parallel_equals_serial(ctx):
    sub = ctx.solution("os-alloc", "misaligned")
    a = ctx.grade("os-alloc", sub, "--jobs", "1")[1]
    b = ctx.grade("os-alloc", sub, "--jobs", "3")[1]
    expect(scores(a) == scores(b), "same scores with --jobs 3", scores(a), scores(b))


@case
def table_and_progress(ctx):
    rc, res, out, err = ctx.grade("c-sum", ctx.solution("c-sum", "wrong-format"))
    expect("two numbers" in out and "total" in out and "10/100" in out.replace(" ", ""), "table", out)
    expect("[10/10]" in err and "building" in err, "progress lines", err)


def bad_assignment(ctx, yaml_text, needle):
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "assignment.yaml"), "w").write(yaml_text)
        p = subprocess.run([ctx.labvisor, "grade", d, ctx.solution("c-sum", "reference")],
                           capture_output=True, text=True)
        expect(p.returncode == 2 and needle in p.stderr, "invalid assignment: '%s'" % needle,
               p.returncode, p.stderr)


@case
def invalid_assignments(ctx):
    ok_test = "tests:\n  - {name: t, points: 1, kind: io, command: ./x, stdout: x}\n"
    bad_assignment(ctx, "title: x\npionts: 3\n" + ok_test,
                   "assignment.yaml:2:1: (top level): unknown field 'pionts'")
    bad_assignment(ctx, "title: x\n" + ok_test.replace("points: 1", "points: ten"),
                   "assignment.yaml:3:23: tests[1].points: expected a number, got 'ten'")
    bad_assignment(ctx, "title: x\ntests: [\n", "assignment.yaml:3:1")
    bad_assignment(ctx, "title: x\n" + ok_test.replace("kind: io", "kind: quiz"),
                   "tests[1].kind: expected one of io, checker, framework, got 'quiz'")
    bad_assignment(ctx, "title: x\npoints: 5\n" + ok_test, "the tests add up to 1 points")
    bad_assignment(ctx, ok_test, "title: missing (required)")
    bad_assignment(ctx, "title: x\n" + ok_test.replace("stdout: x", "stdout_file: nope.out"),
                   "'nope.out' does not exist in the assignment folder")
    bad_assignment(ctx, "title: x\ndeadline: tomorrow\n" + ok_test, "expected a time like")


def left_behind(ctx):
    expect(not glob.glob("/tmp/labvisor-grade-*"), "scratch folders removed",
           glob.glob("/tmp/labvisor-grade-*"))
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"):
        parent = os.path.join(root, "labvisor")
        boxes = [e for e in os.listdir(parent)] if os.path.isdir(parent) else []
        expect(not [b for b in boxes if b.startswith("box-")], "no cgroup left", boxes)


def precondition(name):
    if os.geteuid() != 0:
        return "grading runs sandboxes, which need root here"
    if not shutil.which("gcc"):
        return "the examples need gcc"
    return None


if __name__ == "__main__":
    sys.exit(run(__doc__, lambda a: Ctx(a.labvisor, a.examples), ["--labvisor", "--examples"],
                 precondition))
