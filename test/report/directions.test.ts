/**
 * One source of truth for metric facts: every place that shows a metric's direction (the study's
 * leaderboard columns, report.html, summary.md, the terminal leaderboard, `lethe eval`'s table and
 * README's metric table) shows the registry's. Exact string checks (tolerance: none).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DIRECTION_MARK } from '../../src/eval/display.ts';
import { metricTableMarkdown, TABLE_BEGIN, TABLE_END } from '../../src/eval/metric-table.ts';
import { getMetric, hasMetric } from '../../src/eval/metrics/index.ts';
import type { EvalResults } from '../../src/eval/results.ts';
import { summaryLines } from '../../src/eval/summary-text.ts';
import { seriesOf } from '../../src/report/format.ts';
import { leaderboardHtml } from '../../src/report/html.ts';
import { parseSummary } from '../../src/report/load.ts';
import { renderLeaderboardText, renderMarkdown } from '../../src/report/text.ts';
import { LEADERBOARD, LEADERBOARD_METRICS } from '../../src/study/study-schema.ts';
import { fixture } from '../helpers/report-fixture.ts';

const mark = (key: string) => DIRECTION_MARK[getMetric(key).direction];

/** A fixture whose stored columns state directions the registry does not have. */
function staleFixture() {
  const s = fixture();
  const flip = { higher: 'lower', lower: 'higher', 'closer-to-oracle': 'lower' } as const;
  const data = JSON.parse(JSON.stringify(s));
  for (const c of data.columns) c.direction = flip[c.direction as keyof typeof flip];
  return parseSummary(data, 'stale.json');
}

describe('metric directions follow the registry', () => {
  test('leaderboard columns are the registry entries (VerbMem ◎, not ↓)', () => {
    assert.equal(LEADERBOARD.length, LEADERBOARD_METRICS.length);
    for (const c of LEADERBOARD) {
      const m = getMetric(c.key);
      assert.deepEqual(c, {
        key: m.name,
        label: m.label,
        direction: m.direction,
        format: m.format,
        description: m.summary,
      });
    }
    assert.equal(LEADERBOARD.find((c) => c.key === 'muse.verbmem.forget')?.direction, 'closer-to-oracle');
  });

  test('report.html, summary.md and the terminal table show the registry direction of every column', () => {
    const s = staleFixture();
    assert.ok(
      s.columns.every((c) => hasMetric(c.key)),
      'the fixture columns are registered metrics',
    );
    const html = leaderboardHtml(s, seriesOf(s));
    const md = renderMarkdown(s);
    const header = md.split('\n').find((l) => l.startsWith('| Run |'))!;
    const terminal = renderLeaderboardText(s).split('\n')[1];
    for (const c of s.columns) {
      const th = new RegExp(
        `data-key="${c.key.replace(/\./g, '\\.')}"[^]*?<span class="dir"[^>]*>(.)</span>`,
      ).exec(html);
      assert.equal(th?.[1], mark(c.key), `HTML header of ${c.key}`);
      assert.ok(header.includes(`${c.label} ${mark(c.key)}`), `summary.md header of ${c.key}: ${header}`);
      assert.ok(terminal.includes(`${c.label} ${mark(c.key)}`), `terminal header of ${c.key}: ${terminal}`);
      assert.ok(md.includes(`**${c.label}** (`), `summary.md column list names ${c.key}`);
    }
  });

  test("lethe eval's table marks each metric with the registry direction", () => {
    const entry = (direction: 'higher' | 'lower' | 'closer-to-oracle') => ({
      label: 'x',
      direction,
      format: 3 as const,
      summary: 'x',
      unlearned: { value: 0.5 },
    });
    const results = {
      models: { unlearned: {} },
      // Stored directions deliberately wrong: the registry's must be shown.
      metrics: { 'muse.verbmem.forget': entry('lower'), 'tofu.forgetQuality': entry('lower') },
      closeness: { skipped: 'test' },
      notes: [],
    } as unknown as EvalResults;
    const lines = summaryLines(results);
    for (const name of ['muse.verbmem.forget', 'tofu.forgetQuality']) {
      const line = lines.find((l) => l.startsWith(`${name} `))!;
      assert.equal(line.split(/\s+/)[1], mark(name), line);
    }
  });

  test("README's metric table is the registry's (regenerate: node --import tsx scripts/metric-table.ts --write)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const a = readme.indexOf(TABLE_BEGIN);
    const b = readme.indexOf(TABLE_END);
    assert.ok(a >= 0 && b > a, 'README has the metric table markers');
    assert.equal(readme.slice(a + TABLE_BEGIN.length, b).trim(), metricTableMarkdown());
    assert.ok(metricTableMarkdown().includes('| `muse.verbmem.forget` | VerbMem | ◎ |'));
  });
});
