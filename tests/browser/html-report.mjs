// Opens an HTML report in Debian's headless chromium (never a downloaded browser) and checks its DOM
// against the report.json it was rendered from. Run by tests/reports_html.rs:
//
//   node tests/browser/html-report.mjs REPORT.html REPORT.json FAILING_CASE_ID SCREENSHOT_DIR
//
// Prints one line per check; exits non-zero on the first failed one.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const [htmlPath, jsonPath, failingId, shotDir] = process.argv.slice(2);
if (!shotDir) {
  console.error('usage: html-report.mjs REPORT.html REPORT.json FAILING_CASE_ID SCREENSHOT_DIR');
  process.exit(2);
}
const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
const pageUrl = pathToFileURL(resolve(htmlPath)).href;

function check(ok, what) {
  if (!ok) {
    throw new Error(`FAILED: ${what}`);
  }
  console.log(`ok: ${what}`);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'gws-conform-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
  ],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(pageUrl, { waitUntil: 'load' });

  // Self-contained: the page itself is the only thing loaded.
  check(requests.every((u) => u === pageUrl), `no network fetch (requests: ${JSON.stringify(requests)})`);
  check(consoleErrors.length === 0, `no console error or CSP violation (${JSON.stringify(consoleErrors)})`);

  // The verdict, first and large.
  const verdict = await page.getAttribute('#verdict', 'data-verdict');
  const expected = !report.summary.complete ? 'incomplete' : report.summary.ok ? 'pass' : 'fail';
  check(verdict === expected, `verdict banner says ${expected} (got ${verdict})`);
  const box = await page.locator('#verdict .word').boundingBox();
  check(box && box.y < 200 && box.height >= 40, 'the verdict word is large and at the top');

  // Counts match the JSON.
  const count = async (k) => Number(await page.locator(`[data-count="${k}"] b`).innerText());
  const known = (report.summary.known || []).filter((k) => k.status === 'known').length;
  check(await count('pass') === report.summary.tally.passed, `passed count = ${report.summary.tally.passed}`);
  check(await count('fail') === report.summary.tally.failed - known, `failed count = ${report.summary.tally.failed - known}`);
  check(await count('skip') === report.summary.tally.skipped, `skipped count = ${report.summary.tally.skipped}`);
  check(await count('total') === report.cases.length, `cases count = ${report.cases.length}`);
  check(await page.locator('details.case').count() === report.cases.length, 'one expandable entry per case');
  check(await page.locator('details.case[data-status="fail"]').count() === report.summary.tally.failed - known,
    'failing entries match the failures');

  // A verdict per documented sample, and the traceability matrix.
  const samples = await page.locator('#samples tbody tr').evaluateAll((rows) =>
    rows.map((r) => [r.dataset.element, r.dataset.status]));
  check(JSON.stringify(samples.map((s) => s[0])) === JSON.stringify(['S1', 'S2', 'S3', 'S4', 'S5', 'S6']),
    `a row per sample S1..S6 (${JSON.stringify(samples)})`);
  const failing = report.cases.find((c) => c.id === failingId);
  check(failing && failing.verdict === 'fail', `${failingId} failed in the JSON`);
  for (const el of failing.spec) {
    const st = await page.getAttribute(`#matrix tr[data-element="${el}"]`, 'data-status');
    check(st === 'fail', `matrix row ${el} is marked failed (got ${st})`);
    const chip = page.locator(`#matrix tr[data-element="${el}"] a.chip[data-case="${failingId}"]`);
    check(await chip.count() === 1, `matrix row ${el} links ${failingId}`);
  }
  const elements = new Set(report.cases.flatMap((c) => c.spec));
  for (const el of elements) {
    const n = report.cases.filter((c) => c.spec.includes(el)).length;
    const chips = await page.locator(`#matrix tr[data-element="${el}"] a.chip`).count();
    check(chips === n, `matrix row ${el} lists its ${n} cases`);
  }
  for (const p of ['documented', 'observed', 'inferred']) {
    const n = report.cases.filter((c) => c.provenance === p).reduce((a, c) => a + c.spec.length, 0);
    const marked = await page.locator(`#matrix a.chip .prov.${p}`).count();
    check(marked === n, `${n} matrix entries marked ${p}`);
  }

  // The failing case's diff: hidden until the case is expanded, then visible.
  const entry = page.locator(`details#case-${failingId}`);
  const diff = entry.locator('pre.diff').first();
  check(!(await diff.isVisible()), 'the diff is hidden before expanding');
  await page.screenshot({ path: join(shotDir, 'report-html.png'), fullPage: false });
  await entry.locator(':scope > summary').click();
  check(await entry.evaluate((d) => d.open), 'clicking the case expands it');
  check(await diff.isVisible(), 'the diff is visible after expanding');
  const diffText = await diff.innerText();
  check(diffText.includes('userName') && /^[-+]/m.test(diffText), 'the diff shows the differing member');
  const added = await diff.locator('.add').count();
  const removed = await diff.locator('.del').count();
  check(added > 0 && removed > 0, 'the diff marks expected and actual lines');
  // The failing step's exchange is open without a click: the request and the answer are the story
  // of the failure. Credentials are redacted.
  const ex = entry.locator('details.exchange[open]').first();
  check(await ex.count() === 1 && await ex.locator('pre.request').isVisible(),
    'the failing step shows its request without a click');
  const reqText = await ex.locator('pre.request').innerText();
  check(/Authorization: \*\*\*/.test(reqText), 'the exchange shows the request, Authorization redacted');
  await diff.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shotDir, 'report-html-failure.png'), fullPage: false });

  // A link from the matrix opens the case it names.
  const other = report.cases.find((c) => c.verdict === 'pass');
  if (other) {
    await page.locator(`#matrix a.chip[data-case="${other.id}"]`).first().click();
    check(await page.locator(`details#case-${other.id}`).evaluate((d) => d.open),
      'a matrix link opens the case it names');
  }
  console.log('html report: all checks passed');
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
