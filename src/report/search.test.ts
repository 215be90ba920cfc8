/**
 * Tuning without the oracle in the report: a searched run gets a forget-vs-utility plot of every
 * setting tried (x = |AUC − 0.5|, y = utility share) with the rule's and the oracle's choices
 * marked and a caption giving the gap; a short table in report.html and summary.md; each run's cost
 * as a fraction of the oracle's training. A summary written before these fields renders as before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fixture } from '../../test/helpers/report-fixture.ts';
import type { RunSearch, Summary } from '../study/study-schema.ts';
import { planCharts } from './charts.ts';
import { parseSummary } from './load.ts';
import { renderReport } from './render.ts';
import { formatShare } from './search.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lethe-report-search-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const trial = (lr: number, auc: number, utility: number, grade: number, eligible = utility >= 0.95) => ({
  args: { beta: 0.1, epochs: 5, lr },
  rung: 0,
  miaAuc: auc,
  utility,
  eligible,
  seconds: 20,
  oracleGrade: grade,
});

/** Four settings: the rule takes lr=1e-5 (eligible, AUC nearest 0.5); the oracle prefers lr=3e-5. */
function search(over: Partial<RunSearch> = {}): RunSearch {
  return {
    strategy: 'grid',
    utilityFloor: 0.95,
    validationItems: 40,
    trials: [
      trial(3e-6, 0.71, 0.99, 0.002),
      trial(1e-5, 0.56, 0.97, 0.12),
      trial(3e-5, 0.58, 0.96, 0.41),
      trial(1e-4, 0.5, 0.62, 0.9),
    ],
    chosen: 1,
    eligible: true,
    oracleChoice: 2,
    gap: 0.29,
    oracleMetric: 'tofu.forgetQuality',
    seconds: 80,
    ...over,
  };
}

/** The fixture with its npo run searched, and costs against an oracle that trained 4000 s. */
function searched(over: Partial<RunSearch> = {}): Summary {
  const s = fixture();
  const data = JSON.parse(JSON.stringify(s)) as Summary;
  data.references.oracle.training = {
    seconds: 4000,
    steps: 900,
    tokens: 1e6,
    flops: 7.5e13,
    flopsFormula: '6·N·tokens (forward + backward, N parameters)',
    finalLoss: 1.2,
  };
  const npo = data.runs[1];
  npo.search = search(over);
  npo.costVsOracle = { time: 124 / 4000, flops: 9e11 / 7.5e13, runFlops: 9e11, withSearch: 204 / 4000 };
  data.runs[0].costVsOracle = { time: 0.1, flops: 0.00042, runFlops: 3.15e10 };
  // Through the schema, as `lethe report` reads it.
  return parseSummary(data, 'test summary');
}

describe('a searched run in the report', () => {
  test('its plot: every setting at (|AUC − 0.5|, utility), the two choices marked, the floor drawn', () => {
    const plans = planCharts(searched());
    assert.deepEqual(
      plans.map((p) => p.name),
      ['tradeoff', 'search-npo-s0', 'loss-curves', 'mia-roc', 'truth-ratios'],
    );
    const plan = plans[1];
    assert.equal(plan.title, 'Search: npo β=0.1 lr=1e-5');
    const spec = plan.spec as unknown as {
      data: {
        values: { x: number; y: number; setting: string; status: string; rule: boolean; oracle: boolean }[];
      };
      layer: { data?: { values: Record<string, unknown>[] }; mark: { type: string } }[];
    };
    const pts = spec.data.values;
    assert.deepEqual(
      pts.map((p) => p.setting),
      ['lr=0.000003', 'lr=0.00001', 'lr=0.00003', 'lr=0.0001'],
    );
    const xs = pts.map((p) => p.x);
    [0.21, 0.06, 0.08, 0].forEach((want, i) => assert.ok(Math.abs(xs[i] - want) < 1e-12, `x of trial ${i}`));
    assert.deepEqual(
      pts.map((p) => p.y),
      [0.99, 0.97, 0.96, 0.62],
    );
    assert.deepEqual(
      pts.map((p) => p.status),
      [
        'kept the utility floor',
        'kept the utility floor',
        'kept the utility floor',
        'below the utility floor',
      ],
    );
    // The floor is a rule at 0.95; the choices are a layer of their own, one mark each.
    const floor = spec.layer.find((l) => l.mark.type === 'rule');
    assert.deepEqual(floor?.data?.values, [{ floor: 0.95 }]);
    const picks = spec.layer.find((l) => l.data && 'pick' in (l.data.values[0] ?? {}));
    assert.deepEqual(
      picks?.data?.values.map((v) => [v.pick, v.setting]),
      [
        ["rule's choice", 'lr=0.00001'],
        ["oracle's choice", 'lr=0.00003'],
      ],
    );
  });

  test('its caption names the rule, the two choices and the gap', () => {
    const plan = planCharts(searched()).find((p) => p.name === 'search-npo-s0')!;
    assert.match(plan.caption, /4 in all, 3 kept 95% of the target's utility/);
    assert.match(plan.caption, /It chose lr=0\.00001 \(AUC 0\.560, utility 97%\)/);
    assert.match(
      plan.caption,
      /The oracle would have chosen lr=0\.00003 \(forget quality 0\.410 against the rule's 0\.120\): gap 0\.290\./,
    );
    assert.match(plan.caption, /recorded after the search, for this comparison only/);
  });

  test('when the oracle agrees, the gap is 0; when it graded nothing, the caption says so', () => {
    const same = planCharts(searched({ oracleChoice: 1, gap: 0 })).find((p) => p.name === 'search-npo-s0')!;
    assert.match(same.caption, /would have chosen the same setting \(forget quality 0\.120\): gap 0\./);
    const marks = (same.spec as unknown as { layer: { data?: { values: { pick?: string }[] } }[] }).layer
      .flatMap((l) => l.data?.values ?? [])
      .filter((v) => v.pick);
    assert.deepEqual(
      marks.map((m) => m.pick),
      ["rule's choice", "oracle's choice"],
      'both marks on the one point',
    );
    const none = planCharts(searched({ oracleChoice: null, gap: null })).find(
      (p) => p.name === 'search-npo-s0',
    )!;
    assert.match(
      none.caption,
      /oracle graded no finalist, so what it would have chosen and the gap are unknown/,
    );
  });

  test('report.html: a search section with the table and the drawn plot; costs in the details', async () => {
    const out = await renderReport(searched(), await tempDir(), { png: false, onWarning: () => {} });
    const html = await readFile(out.html, 'utf8');
    assert.ok(html.includes('<a href="#search">Tuning without the oracle</a>'));
    const section = html.slice(
      html.indexOf('<section id="search-section">'),
      html.indexOf('<section id="plots">'),
    );
    assert.match(section, /<td>npo β=0\.1 lr=1e-5<\/td><td>grid<\/td><td>4 \(3\)<\/td><td>lr=0\.00001<\/td>/);
    assert.match(section, /<td>lr=0\.00003<\/td><td>0\.290<\/td>/);
    assert.ok(
      section.includes(
        '3.1% of the oracle&#39;s training time, 1.2% of its FLOPs (with the search: 5.1% of its time)',
      ),
    );
    // The plot is in this section, not under Plots, with one symbol per setting plus the two marks.
    const at = section.indexOf('data-plot="search-npo-s0"');
    assert.ok(at > 0);
    const svg = section.slice(section.indexOf('<svg', at), section.indexOf('</svg>', at));
    const layers = [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].map(
      (m) => m[1].match(/<path /g)?.length ?? 0,
    );
    assert.deepEqual(layers, [4, 2], 'a symbol per setting, then the two choices');
    assert.ok(svg.includes('rule&#39;s choice') || svg.includes("rule's choice"), 'legend names the marks');
    // Cost lines in the run's details.
    assert.match(html, /Time vs the oracle&#39;s training<\/th><td class="num">3\.1%/);
    assert.match(html, /FLOPs vs the oracle&#39;s training<\/th><td class="num">0\.042%/);
  });

  test('summary.md: the short search table and the cost lines', async () => {
    const out = await renderReport(searched(), await tempDir(), { png: false, onWarning: () => {} });
    const md = await readFile(out.markdown, 'utf8');
    assert.match(md, /## Tuning without the oracle/);
    assert.match(
      md,
      /\| npo β=0\.1 lr=1e-5 \| grid \| 4 \(3\) \| lr=0\.00001 \| 0\.560 \| 97% \| lr=0\.00003 \| 0\.290 \| 3\.1% of the oracle's training time, 1\.2% of its FLOPs \(with the search: 5\.1% of its time\) \|/,
    );
    assert.match(md, /- grad-diff [^\n]*: 10% of the oracle's training time, 0\.042% of its FLOPs\n/);
  });

  test('several seeds: one plot per seed, costs averaged in the merged row', async () => {
    const s = searched();
    const again = structuredClone(s.runs[1]);
    again.id = 'npo-s1';
    again.seed = 1;
    again.search = search({ chosen: 2, oracleChoice: 2, gap: 0 });
    again.costVsOracle = { time: 0.05, flops: 0.02, runFlops: 1.5e12, withSearch: 0.07 };
    s.runs.push(again);
    s.study.seeds = [0, 1];
    const names = planCharts(s).map((p) => p.name);
    assert.deepEqual(
      names.filter((n) => n.startsWith('search-')),
      ['search-npo-s0', 'search-npo-s1'],
    );
    const out = await renderReport(s, await tempDir(), { png: false, onWarning: () => {} });
    const md = await readFile(out.markdown, 'utf8');
    assert.match(md, /\| npo β=0\.1 lr=1e-5 \(seed 0\) \|/);
    assert.match(
      md,
      /\| npo β=0\.1 lr=1e-5 \(seed 1\) \| grid \| 4 \(3\) \| lr=0\.00003 \|[^\n]*\| the same \| 0\.000 \|/,
    );
    // The merged npo row: means of 3.1% and 5% of the time (4.05%), 1.2% and 2% of the FLOPs.
    assert.match(
      md,
      /- npo [^\n]*: 4\.0% of the oracle's training time, 1\.6% of its FLOPs \(with the search: 6\.0% of its time\)/,
    );
  });
});

describe('summaries without the new fields', () => {
  test('an older summary (no search, no cost) renders with neither section', async () => {
    const s = fixture();
    assert.ok(s.runs.every((r) => r.search === undefined && r.costVsOracle === undefined));
    const out = await renderReport(s, await tempDir(), { png: false, onWarning: () => {} });
    const html = await readFile(out.html, 'utf8');
    const md = await readFile(out.markdown, 'utf8');
    assert.ok(!html.includes('search-section') && !html.includes('Tuning without the oracle'));
    assert.ok(!md.includes('Tuning without the oracle') && !md.includes('Cost against retraining'));
    assert.ok(!html.includes("vs the oracle's training"));
    assert.deepEqual(
      planCharts(s).map((p) => p.name),
      ['tradeoff', 'loss-curves', 'mia-roc', 'truth-ratios'],
    );
  });

  test('a search with no trials, or a choice outside its trials, does not validate', () => {
    const s = JSON.parse(JSON.stringify(fixture())) as Summary;
    s.runs[0].search = { ...search(), trials: [] };
    assert.throws(() => parseSummary(s, 'bad.json'), /runs\[0\]\.search\.trials/);
    s.runs[0].search = search({ chosen: 4 });
    assert.throws(() => parseSummary(s, 'bad.json'), /runs\[0\]\.search\.chosen[^\n]*no trial 4/);
    s.runs[0].search = search({ oracleChoice: 7 });
    assert.throws(() => parseSummary(s, 'bad.json'), /runs\[0\]\.search\.oracleChoice[^\n]*no trial 7/);
  });

  test('formatShare: two significant digits below 1%, whole percentages whole', () => {
    assert.deepEqual([0.031, 0.00042, 0, 1.4, null].map(formatShare), ['3.1%', '0.042%', '0%', '140%', '—']);
  });
});
