/**
 * Formatting, best-per-column marking and escaping: exact string comparisons (tolerance: none;
 * these are the strings a reader sees).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bestPerColumn,
  cellValue,
  escapeHtml,
  formatCount,
  formatValue,
  MISSING,
  ORACLE_COLOUR,
  seriesOf,
  TARGET_COLOUR,
} from './format.ts';
import { fixture } from './test-helpers.ts';

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
  test('higher, lower and closer-to-oracle on the fixture', () => {
    const best = bestPerColumn(fixture());
    assert.deepEqual([...best.get('forgetQuality')!], ['npo-s0']);
    assert.deepEqual([...best.get('verbMem')!], ['npo-s0']);
    assert.deepEqual([...best.get('seconds')!], ['task-vector-s0']);
    // privLeak: oracle 0; runs -12.4, 3.1, null -> 3.1 is closest (not the lowest, -12.4).
    assert.deepEqual([...best.get('privLeak')!], ['npo-s0']);
    // miaAuc: oracle 0.503; runs 0.442, 0.521, 0.611 -> 0.521 (|0.018| < |0.061|).
    assert.deepEqual([...best.get('miaAuc')!], ['npo-s0']);
  });
  test('closer-to-oracle picks the nearest value from either side, not the extreme', () => {
    const s = fixture();
    s.references.oracle.metrics.miaAuc = 0.45;
    assert.deepEqual([...bestPerColumn(s).get('miaAuc')!], ['grad-diff-s0']);
  });
  test('references are never marked even when they beat every run', () => {
    const best = bestPerColumn(fixture());
    for (const ids of best.values()) {
      assert.ok(!ids.has('target') && !ids.has('oracle'));
    }
  });
  test('ties share the mark; nulls never win', () => {
    const s = fixture();
    s.runs[0].metrics.verbMem = 0.233;
    s.runs[1].metrics.relearnRecovery = null;
    const best = bestPerColumn(s);
    assert.deepEqual([...best.get('verbMem')!].sort(), ['grad-diff-s0', 'npo-s0']);
    assert.deepEqual([...best.get('relearnRecovery')!], ['grad-diff-s0']);
  });
  test('no oracle value: nothing is closest', () => {
    const s = fixture();
    s.references.oracle.metrics.miaAuc = null;
    assert.equal(bestPerColumn(s).get('miaAuc')!.size, 0);
  });
});

describe('rows and series', () => {
  test('timing columns fall back to timings when metrics lacks them', () => {
    const s = fixture();
    delete s.runs[0].metrics.seconds;
    assert.equal(cellValue(s.runs[0], 'seconds'), s.runs[0].timings.seconds);
    assert.equal(cellValue(s.runs[0], 'nope'), null);
    s.runs[0].metrics.seconds = null;
    assert.equal(cellValue(s.runs[0], 'seconds'), null, 'an explicit null (skipped) is kept');
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
