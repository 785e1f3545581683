#!/usr/bin/env python3
"""Integration tests of the platform (`labvisor serve` / `labvisor worker`).

Real HTTP on loopback, real workers grading in real sandboxes, against SQLite
or a real PostgreSQL server that the test starts itself (as the `postgres`
user: PostgreSQL refuses to run as root).  One case by hand, as root:

    tests/integration/platform_test.py submit_and_feedback --db sqlite \\
        --labvisor build/labvisor --examples examples
"""
import glob
import http.cookiejar
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from harness import Skip, case, expect, run

HIDDEN_TEST = "large values need 64 bits"          # examples/c-sum: visibility hidden
AFTER_DUE = "many numbers"                         # visibility after_due_date
DEMO = {"instructor": ("instructor@demo.labvisor", "demo-instructor"),
        "ta": ("ta@demo.labvisor", "demo-ta"),
        "student": ("student@demo.labvisor", "demo-student"),
        "student2": ("student2@demo.labvisor", "demo-student2")}
SUM_C = open(os.path.join(os.path.dirname(__file__), "../../examples/c-sum/solutions/reference/sum.c")).read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster on a free port, run as the postgres user."""

    def __init__(self, tmp):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise Skip("PostgreSQL is not installed (scripts/setup installs it)")
        self.bin = os.path.dirname(bins[-1])
        self.dir = os.path.join(tmp, "pg")
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(tmp, 0o755)
        self.port = free_port()
        self.as_pg([os.path.join(self.bin, "initdb"), "-D", self.dir + "/data", "-A", "trust",
                    "-U", "postgres", "--no-sync"])
        self.as_pg([os.path.join(self.bin, "pg_ctl"), "-D", self.dir + "/data", "-w", "-l",
                    self.dir + "/log", "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off"
                    % (self.port, self.dir), "start"])
        self.url = "postgres://postgres@127.0.0.1:%d/postgres" % self.port

    def as_pg(self, argv):
        subprocess.run(["runuser", "-u", "postgres", "--"] + argv, check=True,
                       capture_output=True, timeout=120)

    def sql(self, query):
        p = subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, "psql"),
                            "-h", self.dir, "-p", str(self.port), "-At", "-c", query],
                           capture_output=True, text=True, check=True)
        return [line.split("|") for line in p.stdout.splitlines()]

    def stop(self):
        self.as_pg([os.path.join(self.bin, "pg_ctl"), "-D", self.dir + "/data", "-m", "immediate",
                    "stop"])


class Client:
    """One browser-like session: cookies, the CSRF token, JSON in and out."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None
        self.token = None

    def call(self, method, path, body=None, form=None, raw=None, csrf=True):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in form:
                if isinstance(value, tuple):
                    fname, content = value
                    parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                                 b'Content-Type: application/octet-stream\r\n\r\n' % (
                                     boundary.encode(), name.encode(), fname.encode()) + content + b"\r\n")
                else:
                    parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (
                        boundary.encode(), name.encode(), str(value).encode()))
            data = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
            headers["Content-Type"] = "multipart/form-data; boundary=" + boundary
        elif raw is not None:
            data = raw.encode()
            headers["Content-Type"] = "text/csv"
        if csrf and self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base + "/api" + path, data=data, method=method,
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=60) as r:
                status, text, ctype = r.status, r.read().decode(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, text, ctype = e.code, e.read().decode(), e.headers.get("Content-Type", "")
        return status, (json.loads(text) if "json" in ctype else text), text

    def login(self, who):
        email, password = DEMO[who]
        status, me, _ = self.call("POST", "/login", {"email": email, "password": password})
        expect(status == 200, "login as %s" % who, status, me)
        self.csrf = me["csrf_token"]
        return me


class Ctx:
    def __init__(self, a):
        self.labvisor = os.path.abspath(a.labvisor)
        self.kind = a.db
        self.tmp = tempfile.mkdtemp(prefix="lv-platform-")
        self.examples = os.path.join(self.tmp, "examples")
        os.makedirs(self.examples)
        os.symlink(os.path.join(os.path.abspath(a.examples), "c-sum"), os.path.join(self.examples, "c-sum"))
        self.pg = None
        self.server = None
        self.workers = []
        self.logs = []
        if self.kind == "postgres":
            self.pg = Postgres(self.tmp)
            self.url = self.pg.url
        else:
            self.url = "sqlite:%s/platform/labvisor.db" % self.tmp
        self.env = dict(os.environ, LABVISOR_DATA=self.tmp)

    def serve(self, workers=2, demo=True):
        self.port = free_port()
        log = open(os.path.join(self.tmp, "serve-%d.log" % len(self.logs)), "w+")
        self.logs.append(log)
        argv = [self.labvisor, "serve", "--db", self.url, "--port", str(self.port),
                "--workers", str(workers), "--examples", self.examples]
        if demo:
            argv.append("--demo")
        self.server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                       start_new_session=True)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/", timeout=1).read()
                return
            except OSError:
                if self.server.poll() is not None:
                    break
                time.sleep(0.05)
        log.seek(0)
        raise AssertionError("FAILED: the server did not start\n" + log.read())

    def kill_server(self, sig=signal.SIGTERM):
        os.killpg(self.server.pid, sig)
        self.server.wait(timeout=60)

    def worker(self, name, *extra):
        log = open(os.path.join(self.tmp, "worker-%s.log" % name), "w+")
        p = subprocess.Popen([self.labvisor, "worker", "--db", self.url, "--name", name,
                              "--work-dir", os.path.join(self.tmp, "w-" + name), *extra],
                             stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.workers.append((p, log))
        return p, log

    def client(self, who=None):
        c = Client(self.base)
        if who:
            c.login(who)
        return c

    def sql(self, query):
        if self.pg:
            return self.pg.sql(query)
        con = sqlite3.connect("%s/platform/labvisor.db" % self.tmp, timeout=30)
        rows = [[str(v) for v in r] for r in con.execute(query).fetchall()]
        con.close()
        return rows

    def close(self):
        """Stops everything the way an operator would (SIGTERM), so that what
        is left behind afterwards is a defect."""
        procs = [p for p, _ in self.workers] + ([self.server] if self.server else [])
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if self.pg:
            self.pg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def make_ctx(a):
    return Ctx(a)


def submit(c, assignment, files):
    status, res, text = c.call("POST", "/assignments/%d/submissions" % assignment,
                               form=[("files", f) for f in files])
    expect(status == 201, "submission accepted", status, text)
    return res["id"]


def wait_graded(c, sid, timeout=120):
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, s, text = c.call("GET", "/submissions/%d" % sid)
        expect(status == 200, "submission readable", status, text)
        if not seen or seen[-1] != s["status"]:
            seen.append(s["status"])
        if s["status"] in ("graded", "error"):
            return s, seen
        time.sleep(0.1)
    raise AssertionError("FAILED: submission %d not graded in %d s: %s" % (sid, timeout, seen))


def graded_submission(ctx, workers=1):
    """A server with the student's reference submission graded: (student, id)."""
    ctx.serve(workers=workers)
    student = ctx.client("student")
    sid = submit(student, 1, [sum_c()])
    wait_graded(student, sid)
    return student, sid


def with_ctx(fn):
    def wrapped(ctx):
        try:
            fn(ctx)
        finally:
            ctx.close()
    wrapped.__name__ = fn.__name__
    return case(wrapped)


def sum_c(extra=""):
    return ("sum.c", (extra + SUM_C).encode())


# ---- cases ---------------------------------------------------------------------------

@with_ctx
def demo_accounts_and_login(ctx):
    ctx.serve(workers=0)
    for who, role in (("instructor", "instructor"), ("ta", "ta"), ("student", "student")):
        me = ctx.client(who).call("GET", "/me")[1]
        expect(me["courses"][0]["role"] == role and me["courses"][0]["code"] == "CS-DEMO",
               "%s sees the demo course as %s" % (who, role), me)
    c = ctx.client()
    status, body, _ = c.call("POST", "/login", {"email": DEMO["student"][0], "password": "wrong"})
    expect(status == 401 and "wrong email or password" in body["error"], "a wrong password is refused",
           status, body)
    expect(c.call("GET", "/me")[0] == 401, "no session without a login")
    for _ in range(12):
        status, body, _ = c.call("POST", "/login", {"email": DEMO["student"][0], "password": "x"})
    expect(status == 429, "failed logins are rate limited", status, body)
    cookie = [k for k in ctx.client("ta").jar][0]
    expect(cookie.has_nonstandard_attr("HttpOnly") or "HttpOnly" in str(cookie._rest),
           "the session cookie is HttpOnly", cookie._rest)


@with_ctx
def submit_and_feedback(ctx):
    ctx.serve(workers=2)
    student = ctx.client("student")
    sid = submit(student, 1, [sum_c()])
    s, seen = wait_graded(student, sid)
    expect(seen[-1] == "graded" and len(seen) >= 2, "the status goes queued -> ... -> graded", seen)
    names = [t["name"] for t in s["feedback"]["tests"]]
    expect(HIDDEN_TEST not in names and AFTER_DUE not in names and len(names) == 8,
           "the student sees the 8 visible tests only", names)
    expect(s["feedback"]["score"] is None and "staff" not in s["feedback"]["labvisor"],
           "no total and no staff output for the student before publication", s["feedback"])
    _, _, raw = student.call("GET", "/submissions/%d" % sid)
    expect(HIDDEN_TEST not in raw, "the hidden test's name is nowhere in the student's view", raw)
    ta = ctx.client("ta")
    staff_view = ta.call("GET", "/submissions/%d" % sid)[1]
    expect(staff_view["feedback"]["score"] == 100 and len(staff_view["feedback"]["tests"]) == 10,
           "staff see every test and the full score", staff_view["feedback"])
    files = ta.call("GET", "/submissions/%d/files" % sid)[1]
    expect(files[0]["name"] == "sum.c" and "int main" in files[0]["content"], "staff read the files", files)
    # publication shows the student everything
    inst = ctx.client("instructor")
    expect(inst.call("PATCH", "/assignments/1", {"grades_published": True})[0] == 200, "publish")
    s = student.call("GET", "/submissions/%d" % sid)[1]
    expect(s["feedback"]["score"] == 100 and len(s["feedback"]["tests"]) == 9,
           "after publication: the total, and after_published/after_due tests (not hidden ones)",
           s["feedback"])


@with_ctx
def build_failure_is_the_students(ctx):
    ctx.serve(workers=1)
    student = ctx.client("student")
    sid = submit(student, 1, [("sum.c", b"int main( { return 0; }\n")])
    s, _ = wait_graded(student, sid)
    staff = ctx.client("ta").call("GET", "/submissions/%d" % sid)[1]
    expect(s["status"] == "graded" and staff["feedback"]["score"] == 0 and "error" in s["feedback"]["output"],
           "a build failure: 0 with the compiler's output shown", s["feedback"])


@with_ctx
def late_policy_applies(ctx):
    ctx.serve(workers=1)
    inst = ctx.client("instructor")
    past = int((time.time() - 1.5 * 86400) * 1000)
    status, a, text = inst.call("PATCH", "/assignments/1", {"deadline_ms": past})
    expect(status == 200 and a["deadline_ms"] == past, "the instructor moves the deadline", text)
    student = ctx.client("student")
    s, _ = wait_graded(student, submit(student, 1, [sum_c()]))
    names = [t["name"] for t in s["feedback"]["tests"]]
    expect(s["late_days"] == 2 and AFTER_DUE in names and HIDDEN_TEST not in names,
           "2 days late; after the deadline the after_due_date test shows, the hidden one not",
           s["late_days"], names)
    staff = ctx.client("ta").call("GET", "/submissions/%d" % s["id"])[1]
    expect(staff["feedback"]["score"] == 80 and staff["feedback"]["labvisor"]["late_penalty_pct"] == 20,
           "the late policy (10% a day) takes 20 points", staff["feedback"]["labvisor"])


def forbidden(status, text):
    return status in (403, 404) and HIDDEN_TEST not in text and "sum.c" not in text


@with_ctx
def authorization(ctx):
    student, sid = graded_submission(ctx)
    other = ctx.client("student2")
    for method, path, body in [
            ("GET", "/submissions/%d" % sid, None), ("GET", "/submissions/%d/files" % sid, None),
            ("GET", "/submissions/%d/log" % sid, None),
            ("POST", "/submissions/%d/override" % sid, {"test": HIDDEN_TEST, "points": 0, "comment": "x"}),
            ("POST", "/submissions/%d/regrade" % sid, {}),
            ("GET", "/assignments/1/gradebook", None), ("GET", "/assignments/1/grades.csv", None),
            ("POST", "/assignments/1/regrade", {}), ("POST", "/assignments/1/regrade/apply", {}),
            ("PATCH", "/assignments/1", {"grades_published": True}),
            ("GET", "/courses/1/members", None),
            ("POST", "/courses/1/members", {"email": "x@y.z", "role": "instructor"}),
            ("POST", "/courses", {"code": "X", "title": "Y"}),
            ("GET", "/courses/999", None), ("GET", "/submissions/999", None)]:
        status, _, text = other.call(method, path, body)
        expect(forbidden(status, text), "a student may not %s %s" % (method, path), status, text)
    # the owner still may not use staff endpoints on their own submission
    for method, path, body in [("GET", "/submissions/%d/log" % sid, None),
                               ("POST", "/submissions/%d/override" % sid,
                                {"test": "two numbers", "points": 0, "comment": "x"})]:
        status, _, text = student.call(method, path, body)
        expect(forbidden(status, text), "the owner may not %s %s" % (method, path), status, text)
    ta = ctx.client("ta")
    for method, path, body in [("PATCH", "/assignments/1", {"published": False}),
                               ("POST", "/courses/1/members", {"email": "a@b.c", "role": "ta"})]:
        status, _, text = ta.call(method, path, body)
        expect(status == 403, "a TA may not %s %s" % (method, path), status, text)
    # no CSRF token, no state change; no login, nothing
    status, _, text = ctx.client("student").call("POST", "/assignments/1/submissions",
                                                 form=[("files", sum_c())], csrf=False)
    expect(status == 403 and "CSRF" in text, "a cookie without the CSRF header changes nothing", status, text)
    expect(ctx.client().call("GET", "/submissions/%d" % sid)[0] == 401, "anonymous: 401")
    # an API token works without CSRF and sees what its owner sees
    tok = student.call("POST", "/tokens", {"name": "cli"})[1]["token"]
    script = ctx.client()
    script.token = tok
    status, s, text = script.call("GET", "/submissions/%d" % sid)
    expect(status == 200 and HIDDEN_TEST not in text, "an API token acts as its owner", status, text)
    expect(script.call("GET", "/assignments/1/gradebook")[0] == 403, "and only as its owner")


@with_ctx
def override_regrade_and_export(ctx):
    student, sid = graded_submission(ctx, workers=2)
    ta = ctx.client("ta")
    status, s, text = ta.call("POST", "/submissions/%d/override" % sid,
                              {"test": "two numbers", "points": 4, "comment": "Hard-coded answer, see line 3"})
    expect(status == 200 and s["feedback"]["score"] == 94, "the override changes the score", status, text)
    bad = ta.call("POST", "/submissions/%d/override" % sid, {"test": "two numbers", "points": 11, "comment": "x"})
    expect(bad[0] == 400, "points above the test's maximum are refused", bad)
    mine = student.call("GET", "/submissions/%d" % sid)[1]
    t = [t for t in mine["feedback"]["tests"] if t["name"] == "two numbers"][0]
    expect(t["score"] == 4 and t["override_comment"] == "Hard-coded answer, see line 3",
           "the student sees the override and its comment", t)
    book = ta.call("GET", "/assignments/1/gradebook")[1]
    row = [r for r in book if r["email"] == DEMO["student"][0]][0]
    expect(row["score"] == 94 and row["submission_id"] == sid, "the gradebook has the overridden score", book)
    status, r, _ = ta.call("POST", "/assignments/1/regrade", {})
    expect(status == 202 and r["queued"] == 1, "regrade all queues one job per graded student", r)
    for _ in range(300):
        preview = ta.call("GET", "/assignments/1/regrade")[1]
        if preview["still_running"] == 0 and preview["changes"]:
            break
        time.sleep(0.1)
    expect(preview["changes"][0]["score"] == 94 and preview["changes"][0]["new_score"] == 100,
           "the preview shows the current and the regraded score", preview)
    applied = ta.call("POST", "/assignments/1/regrade/apply", {})[1]
    book = ta.call("GET", "/assignments/1/gradebook")[1]
    row = [r for r in book if r["email"] == DEMO["student"][0]][0]
    expect(applied["applied"] == 1 and row["score"] == 94, "applying keeps the override on the new result",
           applied, row)
    status, csv, _ = ta.call("GET", "/assignments/1/grades.csv")
    lines = csv.strip().splitlines()
    expect(status == 200 and lines[0].startswith("email,name,score") and
           "%s,Sam Student,94,100,0,%d,graded" % (DEMO["student"][0], sid) in lines and len(lines) == 3,
           "the CSV export has one row per student", csv)


def tar_gz(folder):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        t.add(folder, arcname=".")
    return buf.getvalue()


@with_ctx
def instructor_course_upload_enrol(ctx):
    ctx.serve(workers=1)
    inst = ctx.client("instructor")
    status, course, text = inst.call("POST", "/courses", {"code": "OS-101", "title": "Operating Systems"})
    expect(status == 201, "the instructor creates a course", status, text)
    cid = course["id"]
    status, res, text = inst.call("POST", "/courses/%d/members.csv" % cid,
                                  raw="email,name,role,password\nnew@x.org,New Student,student,pw-new\n"
                                      "bad-email,Nobody,student\nta2@x.org,Second TA,ta\n")
    expect(status == 400 and res["enrolled"] == 2 and res["errors"][0]["line"] == 3,
           "CSV import enrols the good lines and names the bad ones", status, text)
    broken = tempfile.mkdtemp(dir=ctx.tmp)
    open(os.path.join(broken, "assignment.yaml"), "w").write("title: x\npoints: ten\n")
    status, _, text = inst.call("POST", "/courses/%d/assignments" % cid,
                                form=[("file", ("broken.tar.gz", tar_gz(broken)))])
    expect(status == 400 and "assignment.yaml" in text, "an invalid assignment is refused with where", text)
    expect(not glob.glob("/tmp/labvisor-assignment-*") and not glob.glob("/tmp/labvisor-upload-*"),
           "nothing of the refused upload is left in /tmp")
    status, a, text = inst.call("POST", "/courses/%d/assignments" % cid,
                                form=[("file", ("c-sum.tar.gz", tar_gz(os.path.join(ctx.examples, "c-sum/")))),
                                      ("published", "1")])
    expect(status == 201 and a["state"] == "ready", "the instructor uploads an assignment", status, text)
    new = ctx.client()
    status, me, _ = new.call("POST", "/login", {"email": "new@x.org", "password": "pw-new"})
    new.csrf = me["csrf_token"]
    # a hostile archive: a ../ entry
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("../escape.c")
        info.size = 4
        t.addfile(info, io.BytesIO(b"x\n\n\n"))
    sid = submit(new, a["id"], [("evil.tar.gz", buf.getvalue())])
    s, _ = wait_graded(new, sid)
    staff = inst.call("GET", "/submissions/%d" % sid)[1]
    expect(staff["feedback"]["score"] == 0 and staff["feedback"]["labvisor"]["rejected"],
           "a traversing archive is rejected, not unpacked", staff["feedback"])


@with_ctx
def fair_queue_positions(ctx):
    ctx.serve(workers=0)
    a, b = ctx.client("student"), ctx.client("student2")
    first = [submit(a, 1, [sum_c()]) for _ in range(5)]
    late = submit(b, 1, [sum_c()])
    pos = a.call("GET", "/submissions/%d" % first[-1])[1]["queue_position"]
    mine = b.call("GET", "/submissions/%d" % late)[1]["queue_position"]
    expect(mine == 1 and pos == 5, "the other student's one submission goes second, not sixth", mine, pos)


@with_ctx
def worker_killed_midjob(ctx):
    ctx.serve(workers=0)
    student = ctx.client("student")
    slow = sum_c("#include <unistd.h>\n__attribute__((constructor)) static void slow(void) { sleep(1); }\n")
    sid = submit(student, 1, [slow])
    w1, log1 = ctx.worker("doomed", "--stale", "3", "--heartbeat", "1")
    for _ in range(300):
        if student.call("GET", "/submissions/%d" % sid)[1]["status"] == "testing":
            break
        time.sleep(0.05)
    os.killpg(w1.pid, signal.SIGKILL)
    w1.wait()
    ctx.worker("rescuer", "--stale", "3", "--heartbeat", "1")
    s, seen = wait_graded(student, sid, timeout=180)
    rows = ctx.sql("SELECT state, attempts, worker FROM jobs WHERE submission_id = %d" % sid)
    expect(s["status"] == "graded" and rows == [["done", "2", "rescuer"]],
           "the job is taken back from the killed worker and recorded once", s["status"], rows)
    staff = ctx.client("ta").call("GET", "/submissions/%d" % sid)[1]
    expect(staff["feedback"]["score"] == 100, "and graded in full", staff["feedback"])
    leftovers = subprocess.run(["sh", "-c", "ls /sys/fs/cgroup/pids/labvisor/ 2>/dev/null | grep -c box; true"],
                               capture_output=True, text=True).stdout.strip()
    expect(leftovers in ("", "0"), "no sandbox cgroup is left behind", leftovers)
    scratch = glob.glob("/tmp/labvisor-worker-*")
    expect(len(scratch) == 1, "the killed worker's scratch folder is removed (the rescuer's stays)",
           scratch)


@with_ctx
def server_restart_loses_nothing(ctx):
    ctx.serve(workers=0)
    student = ctx.client("student")
    sids = [submit(student, 1, [sum_c()]) for _ in range(3)]
    ctx.kill_server(signal.SIGKILL)
    ctx.serve(workers=1, demo=False)
    student = ctx.client("student")
    for sid in sids:
        s, _ = wait_graded(student, sid)
        expect(s["status"] == "graded", "submission %d survives the crash and is graded" % sid, s)
    ta = ctx.client("ta")
    files = ta.call("GET", "/submissions/%d/files" % sids[0])[1]
    expect(files and files[0]["name"] == "sum.c", "with its files", files)
    row = lambda: [r for r in ta.call("GET", "/assignments/1/gradebook")[1]
                   if r["email"] == DEMO["student"][0]][0]
    expect(row()["submission_id"] == sids[-1] and row()["submissions"] == 3,
           "the gradebook counts the latest submission", row())
    ta.call("POST", "/assignments/1/choose", {"submission_id": sids[0]})
    expect(row()["submission_id"] == sids[0], "until the staff choose another", row())


@with_ctx
def two_workers_race(ctx):
    ctx.serve(workers=0)
    student = ctx.client("student")
    sids = [submit(student, 1, [sum_c()]) for _ in range(4)]
    ctx.worker("a")
    ctx.worker("b")
    for sid in sids:
        wait_graded(student, sid)
    rows = ctx.sql("SELECT attempts, state FROM jobs WHERE kind = 'grade' ORDER BY id")
    expect(rows == [["1", "done"]] * 4, "each job claimed once, by one worker", rows)
    graded = 0
    for _, log in ctx.workers:
        log.seek(0)
        graded += log.read().count(": graded")
    expect(graded == 4, "four gradings in the two workers' logs together", graded)


def precondition(name):
    if os.geteuid() != 0:
        return "the platform's tests run as root (sandboxes and cgroups need it here)"
    return None


if __name__ == "__main__":
    sys.exit(run(__doc__, make_ctx, ["--labvisor", "--examples", "--db"], precondition))
