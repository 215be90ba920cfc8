/**
 * Several seeds: one row per configuration with mean ± sd across seeds, starred only beyond that
 * spread. Exact arithmetic on hand-picked values (tolerance 1e-12).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture } from '../../test/helpers/report-fixture.ts';
import { bestPerColumn } from './format.ts';
import { forDisplay } from './seeds.ts';
import { renderMarkdown } from './text.ts';

const FQ = 'tofu.forgetQuality';
const MU = 'tofu.modelUtility';

function twoSeeds() {
  const s = fixture();
  s.study.seeds = [0, 1];
  const again = s.runs.map((r) => ({
    ...structuredClone(r),
    id: r.id.replace(/-s0$/, '-s1'),
    seed: 1,
    metrics: { ...r.metrics, [MU]: (r.metrics[MU] ?? 0) + 0.02 },
  }));
  s.runs = [...s.runs, ...again];
  return s;
}

describe('several seeds', () => {
  test('one row per configuration, mean ± sd across seeds', () => {
    const s = forDisplay(twoSeeds());
    assert.equal(s.runs.length, 3);
    const npo = s.runs.find((r) => r.method === 'npo')!;
    assert.deepEqual(npo.seeds, [0, 1]);
    // 0.588 and 0.608: mean 0.598, sd = 0.02/√2.
    assert.ok(Math.abs(npo.metrics[MU]! - 0.598) < 1e-12);
    const sd = 0.02 / Math.SQRT2;
    assert.ok(Math.abs(npo.intervals![MU].hi - npo.intervals![MU].lo - 2 * sd) < 1e-12);
    assert.match(npo.basis![MU], /mean ± sd over 2 of 2 seeds \(0, 1\)/);
    // Identical values on both seeds: sd 0.
    assert.equal(npo.intervals![FQ].lo, npo.intervals![FQ].hi);
    assert.equal(forDisplay(s), s, 'idempotent');
    assert.equal(forDisplay(fixture()).runs.length, 3, 'a single-seed study is unchanged');
  });
  test('stars use the spread across seeds; summary.md shows mean ± sd', () => {
    const s = twoSeeds();
    // grad-diff's utility varies widely across seeds: npo (mean 0.598) no longer clearly best.
    const gd = s.runs.filter((r) => r.method === 'grad-diff');
    gd[0].metrics[MU] = 0.5;
    gd[1].metrics[MU] = 0.9;
    const shown = forDisplay(s);
    assert.equal(bestPerColumn(shown).get(MU)!.size, 0);
    const md = renderMarkdown(s);
    assert.match(md, /0\.598 ± 0\.014/);
    assert.match(md, /mean ± sd across seeds/);
  });
});
