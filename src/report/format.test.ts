/**
 * Formatting, best-per-column marking and escaping: exact string comparisons (tolerance: none;
 * these are the strings a reader sees).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture } from '../../test/helpers/report-fixture.ts';
import {
  bestPerColumn,
  cellText,
  cellValue,
  escapeHtml,
  formatCount,
  formatValue,
  MISSING,
  ORACLE_COLOUR,
  seriesOf,
  TARGET_COLOUR,
} from './format.ts';

describe('formatValue', () => {
  test('decimals', () => {
    assert.equal(formatValue(0.61234, 3), '0.612');
    assert.equal(formatValue(94.25, 1), '94.3');
    assert.equal(formatValue(2, 0), '2');
    assert.equal(formatValue(-0.0001, 1), '0.0', 'a value that rounds to zero loses its sign');
  });
  test('pct', () => {
    assert.equal(formatValue(0.62, 'pct'), '62.0%');
    assert.equal(formatValue(0.0312, 'pct'), '3.1%');
    assert.equal(formatValue(1, 'pct'), '100.0%');
    assert.equal(formatValue(-0.0001, 'pct'), '0.0%');
  });
  test('sci', () => {
    assert.equal(formatValue(2.1e-9, 'sci'), '2.10e-9');
    assert.equal(formatValue(0.4121, 'sci'), '4.12e-1');
    assert.equal(formatValue(1, 'sci'), '1.00e+0');
    assert.equal(formatValue(0, 'sci'), '0');
  });
  test('seconds', () => {
    assert.equal(formatValue(0.4231, 'seconds'), '0.42 s');
    assert.equal(formatValue(12.34, 'seconds'), '12.3 s');
    assert.equal(formatValue(412.9, 'seconds'), '6m 53s');
    assert.equal(formatValue(3600 * 2 + 65, 'seconds'), '2h 01m');
  });
  test('mb', () => {
    assert.equal(formatValue(812.4, 'mb'), '812 MB');
    assert.equal(formatValue(4420, 'mb'), '4,420 MB');
    assert.equal(formatValue(20 * 1024, 'mb'), '20.0 GB');
  });
  test('null, undefined and non-finite values print as an em dash', () => {
    for (const f of [3, 'pct', 'sci', 'seconds', 'mb'] as const) {
      assert.equal(formatValue(null, f), MISSING);
      assert.equal(formatValue(undefined, f), MISSING);
      assert.equal(formatValue(Number.NaN, f), MISSING);
    }
    assert.equal(MISSING, '—');
  });
  test('formatCount', () => {
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(12582912), '12.6M');
    assert.equal(formatCount(7_000_000_000), '7.00B');
  });
});

describe('bestPerColumn', () => {
  const FQ = 'tofu.forgetQuality';
  const VM = 'muse.verbmem.forget';
  const MIA = 'mia.loss';
  const PL = 'muse.privleak';
  const RR = 'robustness.relearnRecovery';
  const PII = 'pii.fewShot.forget';
  test('higher, lower and closer-to-oracle on the fixture', () => {
    const best = bestPerColumn(fixture());
    assert.deepEqual([...best.get(FQ)!], ['npo-s0']);
    // VerbMem is closer-to-oracle (registry): oracle 0.214 ± 0.024; npo 0.233 ± 0.025 is 0.019 away,
    // the next (grad-diff 0.302 ± 0.03) 0.088: the gap 0.069 exceeds the half-widths' sum 0.055.
    assert.deepEqual([...best.get(VM)!], ['npo-s0']);
    assert.deepEqual([...best.get('efficiency.seconds')!], ['task-vector-s0']);
    // privLeak: oracle 0; runs -12.4, 3.1, null -> 3.1 is closest (not the lowest, -12.4).
    assert.deepEqual([...best.get(PL)!], ['npo-s0']);
  });
  test('no star when the best is within the uncertainty of another run', () => {
    const best = bestPerColumn(fixture());
    // mia.loss: oracle 0.503; npo 0.521 is closest (0.018) but grad-diff (0.061) is within the
    // half-widths 0.06 + 0.06 of it.
    assert.equal(best.get(MIA)!.size, 0);
    // Relearn recovery: npo [0.15, 0.47] overlaps grad-diff [0.41, 0.75].
    assert.equal(best.get(RR)!.size, 0);
    // Narrow the intervals and the closest run is marked.
    const s = fixture();
    for (const r of s.runs) {
      const v = r.metrics[MIA]!;
      r.intervals![MIA] = { lo: v - 0.005, hi: v + 0.005 };
    }
    assert.deepEqual([...bestPerColumn(s).get(MIA)!], ['npo-s0']);
  });
  test('closer-to-oracle picks the nearest value from either side, not the extreme', () => {
    const s = fixture();
    s.references.oracle.metrics[MIA] = 0.45;
    for (const r of s.runs) delete r.intervals![MIA];
    assert.deepEqual([...bestPerColumn(s).get(MIA)!], ['grad-diff-s0']);
  });
  test('references are never marked even when they beat every run', () => {
    const best = bestPerColumn(fixture());
    for (const ids of best.values()) {
      assert.ok(!ids.has('target') && !ids.has('oracle'));
    }
  });
  test('no star on ties, constant columns, a lone value or nulls', () => {
    const s = fixture();
    s.runs[0].metrics[FQ] = s.runs[1].metrics[FQ];
    for (const r of s.runs) r.metrics[PII] = 0;
    s.runs[0].metrics[PL] = null;
    const best = bestPerColumn(s);
    assert.equal(best.get(FQ)!.size, 0, 'a tie for the best');
    assert.equal(best.get(PII)!.size, 0, 'every run 0.0%');
    assert.equal(best.get(PL)!.size, 0, 'one run with a value (npo), nothing to beat');
    // Values that differ only below the printed precision are a tie too.
    const t = fixture();
    t.runs[0].metrics[FQ] = 0.41211;
    t.runs[1].metrics[FQ] = 0.41213;
    assert.equal(bestPerColumn(t).get(FQ)!.size, 0);
  });
  test('no oracle value: nothing is closest', () => {
    const s = fixture();
    s.references.oracle.metrics[MIA] = null;
    assert.equal(bestPerColumn(s).get(MIA)!.size, 0);
  });
  test('a metric that does not apply prints n/a, a skipped one —', () => {
    const s = fixture();
    const col = s.columns.find((c) => c.key === RR)!;
    assert.equal(cellText(s.references.target, col), 'n/a');
    const pl = s.columns.find((c) => c.key === PL)!;
    assert.equal(cellText(s.runs[2], pl), '—');
  });
});

describe('rows and series', () => {
  test('timing columns fall back to timings when metrics lacks them', () => {
    const s = fixture();
    delete s.runs[0].metrics['efficiency.seconds'];
    assert.equal(cellValue(s.runs[0], 'efficiency.seconds'), s.runs[0].timings.seconds);
    assert.equal(cellValue(s.runs[0], 'nope'), null);
    s.runs[0].metrics['efficiency.seconds'] = null;
    assert.equal(cellValue(s.runs[0], 'efficiency.seconds'), null, 'an explicit null (skipped) is kept');
  });
  test('references get fixed colours, runs distinct ones, duplicate labels are told apart', () => {
    const s = fixture();
    s.runs[1].label = s.runs[0].label;
    const series = seriesOf(s);
    assert.equal(series[0].colour, TARGET_COLOUR);
    assert.equal(series[1].colour, ORACLE_COLOUR);
    assert.equal(new Set(series.map((x) => x.colour)).size, series.length);
    assert.equal(new Set(series.map((x) => x.name)).size, series.length);
    assert.equal(series[2].name, `${s.runs[0].label} [${s.runs[0].id}]`);
  });
});

describe('escapeHtml', () => {
  test('markup, ampersands and quotes', () => {
    assert.equal(
      escapeHtml('<script>alert("x")</script> & \'y\''),
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
    assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'already-escaped text is escaped again (it is text)');
  });
  test('control characters become visible control pictures; tab and newline stay', () => {
    assert.equal(escapeHtml('a\u0000b\u001bc\td\ne\u007f'), 'a\u2400b\u241bc\td\ne\u2421');
  });
});
