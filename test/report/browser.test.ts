/**
 * The report as a person sees it: renders the fixture study, opens report.html in headless Chromium
 * from a file:// URL, and checks the leaderboard rows, that every plot's SVG is laid out with a
 * non-zero size and drawn marks, that sorting works, and that the page asks for nothing but itself
 * (self-contained). Saves a full-page screenshot to test/report/out/report.png for a human to look
 * at. Uses Debian's Chromium (/usr/bin/chromium, `apt-get install -y chromium`); without it the
 * test skips and says so.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { loadSummary } from '../../src/report/load.ts';
import { renderReport } from '../../src/report/render.ts';
import { skipUnlessPresent } from '../reliability/must-run.ts';

const CHROMIUM = '/usr/bin/chromium';
const HERE = fileURLToPath(new URL('.', import.meta.url));
const FIXTURE = join(HERE, 'fixtures', 'summary.json');
const OUT = join(HERE, 'out');
const PLOTS = ['tradeoff', 'loss-curves', 'mia-roc', 'truth-ratios'];

const skip = skipUnlessPresent(
  'Chromium',
  [CHROMIUM],
  "install Debian's Chromium (apt-get install -y chromium) to run the browser test",
);

test('report.html renders in Chromium: leaderboard rows, every plot drawn, nothing fetched', {
  skip,
  timeout: 120_000,
}, async () => {
  const summary = loadSummary(FIXTURE);
  const dir = await mkdtemp(join(tmpdir(), 'lethe-report-browser-'));
  const profile = await mkdtemp(join(tmpdir(), 'lethe-chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1360, height: 900 },
  });
  try {
    const files = await renderReport(summary, dir, { png: false, onWarning: () => {} });
    const page = await context.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const url = pathToFileURL(files.html).href;
    await page.goto(url, { waitUntil: 'load' });

    // Leaderboard: two reference rows, then one row per run, in the summary's order.
    const refNames = await page.locator('#leaderboard-table tbody.refs tr td.name a').allTextContents();
    const runNames = await page.locator('#leaderboard-table tbody.runs tr td.name a').allTextContents();
    assert.deepEqual(refNames, [summary.references.target.label, summary.references.oracle.label]);
    assert.deepEqual(
      runNames,
      summary.runs.map((r) => r.label),
    );
    const headers = await page.locator('#leaderboard-table thead th').count();
    assert.equal(headers, summary.columns.length + 2);
    // Stars only beyond the uncertainty: in the fixture MIA AUC and relearn recovery have none.
    assert.equal(await page.locator('#leaderboard-table td.best').count(), summary.columns.length - 2);

    // Every plot: an inline SVG with a real laid-out size and drawn marks inside it.
    for (const name of PLOTS) {
      const svg = page.locator(`figure[data-plot="${name}"] svg`);
      assert.equal(await svg.count(), 1, `plot ${name} has one svg`);
      const box = await svg.boundingBox();
      assert.ok(
        box && box.width > 100 && box.height > 100,
        `plot ${name} has a size: ${JSON.stringify(box)}`,
      );
      const marks = await svg.locator('g.role-mark > path, g.role-mark > line, g.role-mark > rect').count();
      assert.ok(marks > 0, `plot ${name} draws marks (found ${marks})`);
      const texts = await svg.locator('text').count();
      assert.ok(texts > 5, `plot ${name} has axis/legend text (found ${texts})`);
    }
    // The trade-off plot has one symbol per row with both values (all five in the fixture).
    const points = await page
      .locator('figure[data-plot="tradeoff"] svg g.mark-symbol.role-mark > path')
      .count();
    assert.equal(points, 5);

    // Sorting: the first click on a "lower is better" column puts the best run first.
    await page.locator('#leaderboard-table thead th[data-key="efficiency.seconds"] button').click();
    const firstAfterSort = await page
      .locator('#leaderboard-table tbody.runs tr td.name a')
      .first()
      .textContent();
    const fastest = [...summary.runs].sort((a, b) => a.timings.seconds - b.timings.seconds)[0];
    assert.equal(firstAfterSort, fastest.label);
    // Reference rows never move.
    assert.deepEqual(
      await page.locator('#leaderboard-table tbody.refs tr td.name a').allTextContents(),
      refNames,
    );
    await page.locator('#leaderboard-table thead th.name button').click();
    await page.evaluate('window.scrollTo(0, 0)');

    // Self-contained: the only thing the page loaded was itself.
    assert.deepEqual(
      requested.filter((u) => u !== url),
      [],
      'the report must not load any other resource',
    );
    assert.deepEqual(errors, [], 'no script errors');

    await mkdir(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
