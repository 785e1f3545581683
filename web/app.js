// Labvisor's web UI: a small single-page app over the JSON API (docs/api.md).
// Hash routes: #/ (courses), #/courses/N, #/assignments/N, #/submissions/N.
"use strict";

const state = { me: null, csrf: sessionStorage.getItem("csrf") || "", timer: null };
const $ = (sel, root = document) => root.querySelector(sel);

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false)
    el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

function toast(msg, bad = false) {
  const t = $("#toast");
  t.textContent = msg;
  t.className = "show" + (bad ? " bad" : "");
  clearTimeout(toast.t);
  toast.t = setTimeout(() => (t.className = ""), 3500);
}

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") opt.headers["X-CSRF-Token"] = state.csrf;
  if (body instanceof FormData) opt.body = body;
  else if (body !== undefined) {
    opt.body = JSON.stringify(body);
    opt.headers["Content-Type"] = "application/json";
  }
  const res = await fetch("/api" + path, opt);
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  if (res.status === 401 && path !== "/login") { state.me = null; render(); }
  if (!res.ok) throw new Error((data && data.error) || res.statusText);
  return data;
}

const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : "—");
const fmtNum = (x) => (x === null || x === undefined ? "—" : Math.round(x * 100) / 100);
const badge = (s) => h("span", { class: "badge " + (s || "") }, s || "—");

// A table whose columns sort on click; cols: [{key, label, num, render}]
function table(cols, rows, id) {
  let sortKey = null, dir = 1;
  const tbody = h("tbody");
  const head = cols.map((c) => h("th", { class: c.num ? "num" : null, onclick: () => {
    dir = sortKey === c.key ? -dir : 1;
    sortKey = c.key;
    head.forEach((th) => th.removeAttribute("data-dir"));
    head[cols.indexOf(c)].setAttribute("data-dir", dir > 0 ? "asc" : "desc");
    fill();
  } }, c.label));
  function fill() {
    const sorted = [...rows];
    if (sortKey) sorted.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    tbody.replaceChildren(...sorted.map((r) => h("tr", {}, cols.map((c) =>
      h("td", { class: c.num ? "num" : null }, c.render ? c.render(r) : fmtNum(r[c.key]))))));
  }
  fill();
  return h("table", { id }, h("thead", {}, h("tr", {}, head)), tbody);
}

function crumbs(...parts) {
  $("#crumbs").replaceChildren(...parts.flatMap((p, i) =>
    [i ? " / " : "", p.href ? h("a", { href: p.href }, p.label) : p.label]));
}

// ---- views ----

function loginView() {
  crumbs();
  const form = h("form", { onsubmit: async (e) => {
    e.preventDefault();
    try {
      const me = await api("POST", "/login", { email: form.email.value, password: form.password.value });
      state.csrf = me.csrf_token;
      sessionStorage.setItem("csrf", state.csrf);
      await loadMe();
      render();
    } catch (err) { toast(err.message, true); }
  } },
    h("label", {}, "Email", h("input", { name: "email", type: "email", autocomplete: "username", required: true })),
    h("label", {}, "Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, "Log in"));
  return h("div", { class: "card login" }, h("h1", {}, "Log in"), form);
}

async function homeView() {
  crumbs({ label: "Courses" });
  const view = [h("h1", {}, "Your courses")];
  view.push(h("div", { class: "grid" }, state.me.courses.map((c) =>
    h("a", { class: "card", href: `#/courses/${c.id}` }, h("strong", {}, c.code), h("div", {}, c.title),
      h("div", { class: "muted" }, c.role)))));
  if (!state.me.courses.length) view.push(h("p", { class: "muted" }, "You are not enrolled in any course yet."));
  if (state.me.can_create_courses) {
    const f = h("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      try { const c = await api("POST", "/courses", { code: f.code.value, title: f.title.value });
        await loadMe(); location.hash = `#/courses/${c.id}`; } catch (err) { toast(err.message, true); }
    } }, h("label", {}, "Code", h("input", { name: "code", required: true })),
      h("label", {}, "Title", h("input", { name: "title", required: true })),
      h("button", {}, "Create course"));
    view.push(h("h2", {}, "New course"), h("div", { class: "card" }, f));
  }
  return view;
}

async function courseView(id) {
  const c = await api("GET", `/courses/${id}`);
  const staff = c.role !== "student";
  crumbs({ label: "Courses", href: "#/" }, { label: c.code });
  const view = [h("h1", {}, c.title), h("p", { class: "muted" }, `${c.code} · you are ${c.role}`),
    h("h2", {}, "Assignments"),
    table([
      { key: "title", label: "Assignment", render: (a) => h("a", { href: `#/assignments/${a.id}` }, a.title) },
      { key: "points", label: "Points", num: true },
      { key: "deadline_ms", label: "Deadline", render: (a) => fmtTime(a.deadline_ms) },
      { key: "state", label: "State", render: (a) => badge(a.state) },
      ...(staff ? [{ key: "published", label: "Published", render: (a) => (a.published ? "yes" : "no") }] : []),
    ], c.assignments, "assignments")];
  if (c.role === "instructor") {
    const up = h("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      const fd = new FormData(up);
      try { const a = await api("POST", `/courses/${id}/assignments`, fd);
        toast("Assignment uploaded"); location.hash = `#/assignments/${a.id}`; } catch (err) { toast(err.message, true); }
    } }, h("label", {}, "Archive (.zip, .tar.gz)", h("input", { type: "file", name: "file", required: true })),
      h("label", {}, "Title (optional)", h("input", { name: "title" })),
      h("label", {}, "Published", h("select", { name: "published" }, h("option", { value: "0" }, "no"), h("option", { value: "1" }, "yes"))),
      h("button", {}, "Upload assignment"));
    view.push(h("h2", {}, "Upload an assignment"), h("div", { class: "card" },
      h("p", { class: "muted" }, "The grading engine's format (assignment.yaml) or a Gradescope autograder (setup.sh + run_autograder)."), up));
  }
  if (staff) {
    const members = await api("GET", `/courses/${id}/members`);
    view.push(h("h2", {}, `People (${members.length})`), table([
      { key: "name", label: "Name", render: (m) => m.name }, { key: "email", label: "Email", render: (m) => m.email },
      { key: "role", label: "Role", render: (m) => m.role }], members, "members"));
    if (c.role === "instructor") {
      const one = h("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        try { await api("POST", `/courses/${id}/members`, { email: one.email.value, name: one.name.value,
          role: one.role.value, password: one.password.value || undefined }); toast("Enrolled"); render(); }
        catch (err) { toast(err.message, true); }
      } }, h("label", {}, "Email", h("input", { name: "email", type: "email", required: true })),
        h("label", {}, "Name", h("input", { name: "name" })),
        h("label", {}, "Role", h("select", { name: "role" }, ["student", "ta", "instructor"].map((r) => h("option", {}, r)))),
        h("label", {}, "Password (new accounts)", h("input", { name: "password", type: "password" })),
        h("button", {}, "Enrol"));
      const csv = h("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        const text = await csv.file.files[0].text();
        const res = await fetch(`/api/courses/${id}/members.csv`, { method: "POST", body: text,
          headers: { "X-CSRF-Token": state.csrf, "Content-Type": "text/csv" } });
        const j = await res.json();
        toast(res.ok ? `Enrolled ${j.enrolled}` : `Enrolled ${j.enrolled}; ${j.errors.length} line(s) refused`, !res.ok);
        render();
      } }, h("label", {}, "CSV: email,name,role[,password]", h("input", { type: "file", name: "file", accept: ".csv,text/csv", required: true })),
        h("button", { class: "secondary" }, "Import"));
      view.push(h("div", { class: "card" }, one), h("div", { class: "card" }, csv));
    }
  }
  return view;
}

function submitForm(a) {
  const f = h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const s = await api("POST", `/assignments/${a.id}/submissions`, new FormData(f));
      toast("Submitted"); location.hash = `#/submissions/${s.id}`;
    } catch (err) { toast(err.message, true); }
  } }, h("label", {}, "Files or one archive", h("input", { type: "file", name: "files", multiple: true, required: true })),
    h("button", {}, "Submit"));
  return f;
}

async function assignmentView(id) {
  const a = await api("GET", `/assignments/${id}`);
  const staff = a.role !== "student";
  crumbs({ label: "Courses", href: "#/" }, { label: "Course", href: `#/courses/${a.course_id}` }, { label: a.title });
  const late = a.deadline_ms && Date.now() > a.deadline_ms;
  const view = [h("h1", {}, a.title),
    h("p", { class: "row" }, badge(a.state), `${fmtNum(a.points)} points`, `deadline ${fmtTime(a.deadline_ms)}`,
      a.late_penalty_pct ? `late: −${a.late_penalty_pct}% per day` : "", a.grades_published ? "grades published" : "")];
  if (a.state !== "ready") view.push(h("p", { class: "muted", id: "state-detail" }, a.state_detail));
  view.push(h("h2", {}, "Submit"), h("div", { class: "card" },
    late ? h("p", { class: "muted" }, "The deadline has passed: the late policy applies.") : "", submitForm(a)));
  const subs = await api("GET", `/assignments/${id}/submissions`);
  view.push(h("h2", {}, staff ? "All submissions" : "Your submissions"), table([
    { key: "id", label: "#", num: true, render: (s) => h("a", { href: `#/submissions/${s.id}` }, `#${s.id}`) },
    ...(staff ? [{ key: "name", label: "Student", render: (s) => s.name }] : []),
    { key: "created_ms", label: "Submitted", render: (s) => fmtTime(s.created_ms) },
    { key: "status", label: "Status", render: (s) => badge(s.status) },
    ...(staff ? [{ key: "score", label: "Score", num: true }] : []),
    { key: "late_days", label: "Late days", num: true }], subs, "submissions"));
  if (staff) view.push(...await staffAssignment(a));
  if (subs.some((s) => ["queued", "building", "testing"].includes(s.status)) || a.state === "preparing")
    state.timer = setTimeout(render, 1500);
  return view;
}

async function staffAssignment(a) {
  const book = await api("GET", `/assignments/${a.id}/gradebook`);
  const out = [h("h2", {}, "Gradebook"), h("p", { class: "row" },
    h("a", { href: `/api/assignments/${a.id}/grades.csv`, download: "grades.csv" }, "Export CSV"),
    h("button", { class: "secondary", id: "regrade-all", onclick: async () => {
      const r = await api("POST", `/assignments/${a.id}/regrade`); toast(`${r.queued} regrade(s) queued`); render(); } }, "Regrade all"),
    a.role === "instructor" ? h("button", { class: "secondary", id: "publish", onclick: async () => {
      await api("PATCH", `/assignments/${a.id}`, { grades_published: !a.grades_published }); render(); } },
      a.grades_published ? "Unpublish grades" : "Publish grades") : ""),
    table([
      { key: "name", label: "Student", render: (r) => r.name },
      { key: "email", label: "Email", render: (r) => r.email },
      { key: "score", label: "Score", num: true },
      { key: "late_days", label: "Late days", num: true },
      { key: "submissions", label: "Submissions", num: true },
      { key: "status", label: "Status", render: (r) => r.submission_id ? h("a", { href: `#/submissions/${r.submission_id}` }, badge(r.status)) : "none" },
      { key: "pending_score", label: "After regrade", num: true }], book, "gradebook")];
  const preview = await api("GET", `/assignments/${a.id}/regrade`);
  if (preview.changes.length || preview.still_running) {
    out.push(h("div", { class: "card", id: "regrade-preview" }, h("strong", {}, "Regrade preview"),
      preview.still_running ? h("p", { class: "muted" }, `${preview.still_running} regrade(s) still running…`) : "",
      table([{ key: "user_id", label: "Student", render: (c) => (book.find((b) => b.user_id === c.user_id) || {}).name },
        { key: "score", label: "Now", num: true }, { key: "new_score", label: "After", num: true }], preview.changes),
      h("p", {}, h("button", { id: "apply-regrade", disabled: preview.still_running > 0 || !preview.changes.length, onclick: async () => {
        const r = await api("POST", `/assignments/${a.id}/regrade/apply`); toast(`${r.applied} result(s) applied`); render(); } }, "Apply new scores"))));
    if (preview.still_running) state.timer = setTimeout(render, 1500);
  }
  if (a.role === "instructor") {
    const f = h("form", { class: "inline", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api("PATCH", `/assignments/${a.id}`, { deadline_ms: f.deadline.value ? new Date(f.deadline.value).getTime() : 0,
          late_penalty_pct: Number(f.penalty.value), late_cutoff_days: Number(f.cutoff.value), published: f.published.checked });
        toast("Saved"); render();
      } catch (err) { toast(err.message, true); }
    } }, h("label", {}, "Deadline", h("input", { type: "datetime-local", name: "deadline",
      value: a.deadline_ms ? new Date(a.deadline_ms - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "" })),
      h("label", {}, "Penalty % per day", h("input", { type: "number", name: "penalty", min: 0, max: 100, value: a.late_penalty_pct })),
      h("label", {}, "Cutoff (days)", h("input", { type: "number", name: "cutoff", min: 0, value: a.late_cutoff_days })),
      h("label", {}, "Published", h("input", { type: "checkbox", name: "published", checked: a.published })),
      h("button", {}, "Save"));
    out.push(h("h2", {}, "Settings"), h("div", { class: "card" }, f));
  }
  return out;
}

function testsTable(s, staff) {
  const fb = s.feedback;
  return table([
    { key: "name", label: "Test", render: (t) => [t.name, t.override_comment ? h("div", { class: "comment" }, t.override_comment) : ""] },
    { key: "score", label: "Points", num: true, render: (t) => `${fmtNum(t.score)} / ${fmtNum(t.max_score)}` },
    { key: "labvisor_status", label: "Status", render: (t) => badge(t.labvisor_status || t.status) },
    { key: "visibility", label: "Visibility", render: (t) => t.visibility },
    { key: "output", label: "Output", render: (t) => [
      t.output ? h("details", {}, h("summary", {}, "show"), h("pre", {}, t.output)) : "",
      staff ? overrideForm(s, t) : ""] }], fb.tests || [], "tests");
}

function overrideForm(s, t) {
  const f = h("form", { class: "inline override", onsubmit: async (e) => {
    e.preventDefault();
    try { await api("POST", `/submissions/${s.id}/override`, { test: t.name, points: Number(f.points.value), comment: f.comment.value });
      toast("Override saved"); render(); } catch (err) { toast(err.message, true); }
  } }, h("input", { name: "points", type: "number", step: "any", min: 0, max: t.max_score, value: t.score, style: "width:5rem", "aria-label": "points" }),
    h("input", { name: "comment", placeholder: "comment for the student", required: true, "aria-label": "comment" }),
    h("button", { class: "secondary" }, "Override"));
  return f;
}

async function submissionView(id) {
  const s = await api("GET", `/submissions/${id}`);
  const a = await api("GET", `/assignments/${s.assignment_id}`);
  const staff = a.role !== "student";
  crumbs({ label: "Courses", href: "#/" }, { label: a.title, href: `#/assignments/${a.id}` }, { label: `Submission #${s.id}` });
  const view = [h("h1", {}, `Submission #${s.id}`),
    h("p", { class: "row" }, h("span", { id: "status" }, badge(s.status)), `submitted ${fmtTime(s.created_ms)}`,
      s.late_days ? `${s.late_days} day(s) late` : "",
      s.queue_position >= 0 ? h("span", { id: "queue" }, `position in queue: ${s.queue_position + 1}`) : "")];
  const fb = s.feedback;
  if (fb && typeof fb === "object") {
    view.push(h("div", { class: "card" },
      h("div", { class: "score", id: "score" }, fb.score === null ? "—" : `${fmtNum(fb.score)} / ${fmtNum(fb.max_score)}`),
      fb.score_note ? h("p", { class: "muted" }, fb.score_note) : "",
      fb.output ? h("pre", { id: "build-output" }, fb.output) : ""));
    view.push(h("h2", {}, "Tests"), testsTable(s, staff));
  }
  if (staff) {
    view.push(h("p", { class: "row" }, h("button", { class: "secondary", id: "regrade-one", onclick: async () => {
      await api("POST", `/submissions/${s.id}/regrade`); toast("Regrade queued: see the assignment's preview"); } }, "Regrade"),
      h("button", { class: "secondary", id: "choose", onclick: async () => {
        await api("POST", `/assignments/${a.id}/choose`, { submission_id: s.id });
        toast("The gradebook now uses this submission for this student"); } }, "Grade this submission (not the latest)")));
    const files = await api("GET", `/submissions/${id}/files`);
    view.push(h("h2", {}, "Files"), ...files.map((f) => h("details", {}, h("summary", {}, `${f.name} (${f.size} bytes)`),
      f.content !== undefined ? h("pre", {}, f.content) : h("p", { class: "muted" }, "binary or large file"))));
    const staffOut = (fb && fb.labvisor && fb.labvisor.staff) || [];
    if (staffOut.length) view.push(h("h2", {}, "Staff output"), ...staffOut.filter((t) => t.staff_output).map((t) =>
      h("details", {}, h("summary", {}, t.name), h("pre", {}, t.staff_output))));
  }
  if (["queued", "building", "testing"].includes(s.status)) state.timer = setTimeout(render, 1000);
  return view;
}

// ---- routing ----

async function loadMe() {
  try { state.me = await api("GET", "/me"); } catch { state.me = null; }
  $("#who").replaceChildren(...(state.me ? [state.me.name, h("button", { class: "secondary", onclick: async () => {
    await api("POST", "/logout"); state.me = null; sessionStorage.removeItem("csrf"); render(); } }, "Log out")] : []));
}

async function render() {
  clearTimeout(state.timer);
  const view = $("#view");
  if (!state.me) { view.replaceChildren(loginView()); $("#who").replaceChildren(); return; }
  const m = location.hash.match(/^#\/(courses|assignments|submissions)\/(\d+)/);
  try {
    const content = !m ? await homeView()
      : m[1] === "courses" ? await courseView(m[2])
      : m[1] === "assignments" ? await assignmentView(m[2]) : await submissionView(m[2]);
    view.replaceChildren(...[content].flat());
  } catch (err) {
    view.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Not available"), h("p", {}, err.message),
      h("a", { href: "#/" }, "Back to your courses")));
  }
}

window.addEventListener("hashchange", render);
loadMe().then(render);
