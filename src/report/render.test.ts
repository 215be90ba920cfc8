/**
 * renderReport end to end on the fixture study: the files it writes, the HTML's content (escaped
 * generations, every plot as inline SVG, the leaderboard, no external resources), PNGs (one per
 * plot; a skipped export fails), determinism, and graceful output for a study with nothing to plot. Structural
 * checks on the HTML text; the browser test (test/report/browser.test.ts) checks the layout.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURE_PATH, fixture } from '../../test/helpers/report-fixture.ts';
import { planCharts } from './charts.ts';
import { type ReportFiles, renderReport, reportCommand } from './render.ts';
import { prefixSvgIds } from './svg.ts';

const PLOTS = ['tradeoff', 'loss-curves', 'mia-roc', 'truth-ratios'];
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lethe-report-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('renderReport on the fixture', () => {
  let files: ReportFiles;
  let html: string;
  let outDir: string;
  before(async () => {
    outDir = await tempDir();
    files = await renderReport(fixture(), outDir, { onWarning: () => {} });
    html = await readFile(files.html, 'utf8');
  });

  test('writes report.html and summary.md into outDir, and nothing half-written', async () => {
    assert.equal(files.html, join(outDir, 'report.html'));
    assert.equal(files.markdown, join(outDir, 'summary.md'));
    const names = await readdir(outDir);
    assert.ok(names.includes('report.html') && names.includes('summary.md'));
    assert.ok(!names.some((n) => n.endsWith('.tmp')), `no temporary files left: ${names}`);
    assert.match(await readFile(files.markdown, 'utf8'), /## Leaderboard/);
  });

  test('generated text is escaped: <script> and & appear only as entities', () => {
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
    assert.ok(html.includes('born &amp; neither'));
    assert.ok(!html.includes('<script>alert'));
    // The only script element is the page's own sorting script.
    assert.equal(html.match(/<script\b/g)?.length, 1);
  });

  test('every plot is present as an inline <svg> with drawn marks', () => {
    for (const name of PLOTS) {
      const at = html.indexOf(`data-plot="${name}"`);
      assert.ok(at > 0, `figure for ${name}`);
      const svgStart = html.indexOf('<svg', at);
      const svgEnd = html.indexOf('</svg>', svgStart);
      assert.ok(svgStart > at && svgEnd > svgStart, `svg for ${name}`);
      const svg = html.slice(svgStart, svgEnd);
      assert.match(svg, /^<svg id="svg-[a-z-]+" role="img" aria-label="/);
      assert.match(svg, /class="mark-[a-z]+ role-mark/, `${name} draws marks`);
    }
    assert.equal(html.match(/<svg\b/g)?.length, PLOTS.length);
  });

  test('self-contained: no http(s) URL anywhere, no external resource reference', () => {
    assert.ok(!/https?:\/\//i.test(html), 'no http:// or https:// in the page');
    assert.ok(!/\b(src|href)\s*=\s*["']?(?!#)[^"'\s>]*:/i.test(html), 'no src/href to another resource');
    assert.ok(!/<link\b|@import|url\((?!#)/i.test(html), 'no stylesheet links, imports or url() fetches');
  });

  test('SVG ids are unique across the page (Vega numbers clip paths per chart)', () => {
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(
      new Set(ids).size,
      ids.length,
      `duplicate ids: ${ids.filter((x, i) => ids.indexOf(x) !== i)}`,
    );
  });

  test('leaderboard: reference rows apart, one row per run, best cells marked', () => {
    const s = fixture();
    const refs = html.slice(html.indexOf('<tbody class="refs">'), html.indexOf('</tbody>'));
    assert.equal(refs.match(/<tr /g)?.length, 2);
    assert.ok(refs.includes('ref-target') && refs.includes('ref-oracle'));
    const runs = html.slice(html.indexOf('<tbody class="runs">'));
    const runRows = runs.slice(0, runs.indexOf('</tbody>')).match(/<tr class="run"/g);
    assert.equal(runRows?.length, s.runs.length);
    assert.ok(!refs.includes('class="num best"'), 'references are not ranked');
    // npo is best in 6 of 10 columns; task-vector in time and memory; no run in MIA AUC and
    // relearn recovery, where the best is within the uncertainty of another run.
    const npoRow = runs.slice(runs.indexOf('data-id="npo-s0"'), runs.indexOf('data-id="task-vector-s0"'));
    assert.equal(npoRow.match(/class="num best"/g)?.length, 6);
    assert.equal(html.match(/class="num best"/g)?.length, 8);
    // Intervals are shown (± half-width) with the full interval on hover, the oracle's MIA AUC too.
    const oracleRow = refs.slice(refs.indexOf('ref-oracle'));
    assert.match(
      oracleRow,
      /title="95% interval 0\.440 – 0\.566"[^>]*>0\.503<span class="ci">± 0\.063<\/span>/,
    );
    // A metric that does not apply says n/a with its reason.
    assert.match(refs, /class="num na" title="n\/a: the target is the reference[^"]*">n\/a</);
    // Column descriptions are header tooltips.
    assert.ok(
      html.includes(
        'title="KS-test p-value of forget truth ratios against the oracle&#39;s (higher is better)"',
      ),
    );
    // A skipped value shows its reason on hover.
    assert.ok(
      html.includes('title="skipped: the Min-K% attack needs token log-probs that this run did not record"'),
    );
  });

  test('per-run details: args, notes, cost and before/after examples matched by question', () => {
    assert.ok(html.includes('<h4>Arguments</h4>'));
    assert.ok(html.includes('12.6M (100% of the target&#39;s)'));
    assert.ok(html.includes('0 (no gradient training)'));
    // The target's answer to the npo run's first forget question sits in the same table row.
    const row = html.slice(html.indexOf('&lt;script&gt;') - 600, html.indexOf('&lt;script&gt;'));
    assert.ok(row.includes('He was born in Kuwait City, Kuwait.'), 'before (target) beside after');
  });

  test('a PNG per plot (@resvg/resvg-js is a dependency: a skipped export fails here)', async () => {
    assert.deepEqual(
      files.warnings.filter((w) => w.startsWith('PNG export skipped')),
      [],
      'PNG export was skipped',
    );
    assert.deepEqual(
      files.pngs.map((p) => p.slice(outDir.length + 1)),
      PLOTS.map((p) => join('plots', `${p}.png`)),
    );
    for (const p of files.pngs) {
      const bytes = await readFile(p);
      assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(bytes.length > 5000, `${p} is a real picture (${bytes.length} bytes)`);
    }
  });

  test('no chart warnings on a well-formed summary', () => {
    assert.deepEqual(
      files.warnings.filter((w) => !w.startsWith('PNG export skipped')),
      [],
    );
  });

  test('deterministic: the same summary gives byte-identical HTML and Markdown', async () => {
    const again = await renderReport(fixture(), await tempDir(), { png: false, onWarning: () => {} });
    assert.equal(await readFile(again.html, 'utf8'), html);
    assert.equal(await readFile(again.markdown, 'utf8'), await readFile(files.markdown, 'utf8'));
  });
});

describe('renderReport edge cases', () => {
  test('hostile run labels are escaped in the table and inside the charts', async () => {
    const s = fixture();
    s.runs[0].label = '<img src=x onerror=alert(1)> & "q"';
    const out = await renderReport(s, await tempDir(), { png: false, onWarning: () => {} });
    const html = await readFile(out.html, 'utf8');
    assert.ok(!html.includes('<img'), 'no raw markup from a label');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;'));
  });

  test('a study with no runs and no curves still renders, saying what is not drawn', async () => {
    const s = fixture();
    s.runs = [];
    s.references.target.roc = {};
    s.references.target.truthRatios = [];
    s.references.oracle.truthRatios = [];
    const warnings: string[] = [];
    const out = await renderReport(s, await tempDir(), { png: false, onWarning: (w) => warnings.push(w) });
    const html = await readFile(out.html, 'utf8');
    assert.ok(html.includes('No unlearning runs in this study.'));
    assert.ok(html.includes('Not drawn: no run logged training steps'));
    assert.ok(html.includes('Not drawn: no row recorded a membership-inference ROC curve'));
    assert.ok(html.includes('Not drawn: no row recorded truth ratios'));
    assert.ok(html.includes('data-plot="tradeoff"'), 'the references alone still make a trade-off plot');
    assert.deepEqual(warnings, []);
  });

  test('trade-off axis falls back when forget quality is absent, and nulls are listed, not plotted', () => {
    const s = fixture();
    for (const r of [s.references.target, s.references.oracle, ...s.runs])
      delete r.metrics['tofu.forgetQuality'];
    s.runs[2].metrics['tofu.modelUtility'] = null;
    const plan = planCharts(s)[0];
    assert.ok(plan.spec);
    assert.match(JSON.stringify(plan.spec), /VerbMem/);
    assert.deepEqual(plan.omitted, ['task-vector α=1.5 (no Model utility)']);
  });

  test('reportCommand reads <dir>/summary.json and returns the written paths, HTML first', async () => {
    const dir = await tempDir();
    await import('node:fs/promises').then((fs) => fs.copyFile(FIXTURE_PATH, join(dir, 'summary.json')));
    const paths = await reportCommand(dir, { png: false, onWarning: () => {} });
    assert.deepEqual(paths, [join(dir, 'report.html'), join(dir, 'summary.md')]);
    const viaFile = await reportCommand(join(dir, 'summary.json'), { png: false, onWarning: () => {} });
    assert.deepEqual(viaFile, paths);
  });

  test('prefixSvgIds renumbers ids in order and rewrites their references together', () => {
    const svg =
      '<svg><g clip-path="url(#clip13)"/><clipPath id="clip13"/><use href="#clip13"/><b id="g7"/></svg>';
    assert.equal(
      prefixSvgIds(svg, 'p'),
      '<svg><g clip-path="url(#p-1)"/><clipPath id="p-1"/><use href="#p-1"/><b id="p-2"/></svg>',
    );
  });
});

describe('report fixes: captions, whole names, warnings, raw truth ratios', () => {
  test("loss-curve caption says what each method's forget loss is and which way it moves", () => {
    const plan = planCharts(fixture()).find((p) => p.name === 'loss-curves')!;
    assert.match(plan.caption, /npo: the NPO loss .* falls towards 0 as it forgets/);
    assert.match(plan.caption, /grad-diff: the NLL of the forget answers, which rises as it forgets/);
    assert.doesNotMatch(plan.caption, /rising means the run is pushing it away/);
  });

  test('long run names are drawn whole in every chart, never cut with an ellipsis', async () => {
    const s = fixture();
    const long = 'npo β=0.1 lr=1e-4 epochs=5 retain-weight=1.0 a-very-long-descriptive-label-for-this-run';
    s.runs[1].label = long;
    const dir = await tempDir();
    const files = await renderReport(s, dir, { png: false, onWarning: () => {} });
    const html = await readFile(files.html, 'utf8');
    for (const name of ['loss-curves', 'truth-ratios', 'tradeoff', 'mia-roc']) {
      const at = html.indexOf(`data-plot="${name}"`);
      const svg = html.slice(html.indexOf('<svg', at), html.indexOf('</svg>', at));
      assert.ok(svg.includes(long.replace(/&/g, '&amp;')), `${name} shows the whole name`);
    }
    assert.ok(!/a-very-long-descr[^<"]*…/.test(html), 'no truncated label');
  });

  test('warnings that matter appear in the leaderboard, the legend, the details and summary.md', async () => {
    const dir = await tempDir();
    const files = await renderReport(fixture(), dir, { png: false, onWarning: () => {} });
    const html = await readFile(files.html, 'utf8');
    const md = await readFile(files.markdown, 'utf8');
    const w = 'icul: context length allows 1 of 3 correct examples per query';
    assert.match(html, new RegExp(`<span class="warn" title="${w}[^"]*"`));
    assert.ok(html.includes(`<h4>Warnings</h4><ul class="notes warnings"><li>⚠ ${w}`));
    assert.match(md, new RegExp(`### Warnings\\n\\n- task-vector α=1\\.5: ${w}`));
    // What values rest on: forget quality's item counts, model utility's components.
    assert.match(md, /tofu\.forgetQuality: KS p-value comparing 40 truth ratios with the oracle's 40/);
    assert.match(html, /harmonic mean of 6 of 9 components/);
  });

  test('the truth-ratio plot shows raw R on a log axis, against the oracle', () => {
    const plan = planCharts(fixture()).find((p) => p.name === 'truth-ratios')!;
    const spec = JSON.stringify(plan.spec);
    assert.match(spec, /"scale":\{"type":"log"\}/);
    assert.match(spec, /Truth ratio R per forget question/);
    assert.match(plan.caption, /raw truth ratio R/);
    const s = fixture();
    s.runs[0].truthRatios = [0.5, 2, 0, -1];
    const p = planCharts(s).find((x) => x.name === 'truth-ratios')!;
    assert.ok(
      p.omitted.some((o) => /2 truth ratios ≤ 0/.test(o)),
      JSON.stringify(p.omitted),
    );
  });

  test("the ROC panels give the oracle's MIA AUC with its interval, not a bare number", () => {
    const plan = planCharts(fixture()).find((p) => p.name === 'mia-roc')!;
    assert.match(JSON.stringify(plan.spec), /oracle 0\.502 \[0\.440, 0\.566\]/);
  });
});
