// End-to-end flows of the web UI in a real browser: Playwright (playwright-core)
// driving Debian's chromium against a real `labvisor serve --demo`.
//   node tests/browser/flows.mjs FLOW --base http://127.0.0.1:PORT --shots DIR --assignment FILE
// Flows: student_submits, ta_overrides_regrades_exports, instructor_uploads.
// Exit 0 ok, 1 failed, 77 skipped (no chromium).  Screenshots go to --shots.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const args = Object.fromEntries(process.argv.slice(3).reduce((acc, a, i, all) =>
  a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc, []));
const flow = process.argv[2];
const base = args.base;
const shots = args.shots || ".";
const browserPath = args.chromium || "/usr/bin/chromium";

function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
}

async function login(page, email, password) {
  await page.goto(base + "/");
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=Your courses");
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${flow}-${name}.png`), fullPage: true });
}

const flows = {
  async student_submits(page) {
    await login(page, "student@demo.labvisor", "demo-student");
    await page.click("text=CS-DEMO");
    await page.click("text=Sum of numbers");
    await page.setInputFiles("input[name=files]", args.submission);
    await page.click("button:has-text('Submit')");
    // the status updates without a reload
    await page.waitForSelector("#status .badge.graded", { timeout: 120000 });
    const tests = await page.$$eval("#tests tbody tr", (rows) => rows.length);
    const text = await page.textContent("#view");
    check(tests === 8, `the student sees 8 visible tests (saw ${tests})`);
    check(!text.includes("large values need 64 bits"), "no hidden test on the page");
    await shot(page, "feedback");
  },

  async ta_overrides_regrades_exports(page) {
    await login(page, "ta@demo.labvisor", "demo-ta");
    await page.click("text=CS-DEMO");
    await page.click("text=Sum of numbers");
    await page.waitForSelector("#gradebook");
    // sort the gradebook by score (click twice: descending)
    await page.click("#gradebook th:has-text('Score')");
    await page.click("#gradebook th:has-text('Score')");
    check(await page.getAttribute("#gradebook th:has-text('Score')", "data-dir") === "desc", "the table sorts");
    await page.click("#gradebook a .badge.graded");
    await page.waitForSelector("#tests");
    const row = page.locator("#tests tbody tr", { hasText: "two numbers" });
    await row.locator("input[name=points]").fill("3");
    await row.locator("input[name=comment]").fill("Please do not hard-code the answer");
    await row.locator("button:has-text('Override')").click();
    await page.waitForSelector("text=Please do not hard-code the answer");
    check((await page.textContent("#score")).startsWith("93"), "the score includes the override");
    await shot(page, "override");
    await page.click("#regrade-one");
    await page.click("#crumbs a:has-text('Sum of numbers')");
    await page.waitForSelector("#apply-regrade:not([disabled])", { timeout: 120000 });
    await shot(page, "regrade-preview");
    await page.click("#apply-regrade");
    await page.waitForSelector("#regrade-preview", { state: "detached" });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Export CSV")]);
    const file = path.join(shots, "grades.csv");
    await download.saveAs(file);
    const csv = fs.readFileSync(file, "utf8");
    check(csv.startsWith("email,name,score") && csv.includes("student@demo.labvisor,Sam Student,93,100"),
      "the exported CSV has the overridden score: " + csv);
  },

  async instructor_uploads(page) {
    await login(page, "instructor@demo.labvisor", "demo-instructor");
    await page.click("text=CS-DEMO");
    await page.setInputFiles("input[name=file]", args.assignment);
    await page.fill("input[name=title]", "Sum, second edition");
    await page.selectOption("select[name=published]", "1");
    await page.click("button:has-text('Upload assignment')");
    await page.waitForSelector("h1:has-text('Sum, second edition')");
    await page.waitForSelector(".badge.ready");
    await shot(page, "uploaded");
  },
};

if (!fs.existsSync(browserPath)) {
  console.log(`SKIP: no chromium at ${browserPath} (scripts/setup installs it)`);
  process.exit(77);
}
const browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
const page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } })).newPage();
let status = 0;
try {
  await flows[flow](page);
  console.log("ok: " + flow);
} catch (err) {
  console.log(err.message);
  await shot(page, "failure").catch(() => {});
  status = 1;
}
await browser.close();
process.exit(status);
