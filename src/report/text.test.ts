/**
 * summary.md and the terminal table: shape (one header, one separator, one line per row, a cell per
 * column), best values marked, and text that cannot break the table. Exact structure; no tolerance.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture } from '../../test/helpers/report-fixture.ts';
import { renderLeaderboardText, renderMarkdown } from './text.ts';

/** Splits a Markdown table line into cells, honouring escaped pipes. */
function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe('renderMarkdown', () => {
  test('leaderboard table shape: header, separator, 2 references + 3 runs, one cell per column', () => {
    const s = fixture();
    const md = renderMarkdown(s);
    const table = md.split('\n').filter((l) => l.startsWith('|'));
    assert.equal(table.length, 2 + 2 + s.runs.length);
    for (const line of table) assert.equal(cells(line).length, s.columns.length + 2, line);
    assert.match(table[1], /^\| --- \| --- \|( ---: \|)+$/);
    assert.match(table[2], /_target \(reference: before unlearning\)_/);
    assert.match(table[3], /_oracle \(retain only\) \(reference: retrained without forget set\)_/);
    assert.ok(cells(table[0]).includes('Forget quality ↑'));
    assert.ok(cells(table[0]).includes('PrivLeak ◎'));
  });
  test('best values are bold, references never, nulls are em dashes', () => {
    const md = renderMarkdown(fixture());
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    const npo = cells(rows.find((l) => l.includes('npo'))!);
    assert.equal(npo[2], '**4.12e-1** ★');
    assert.equal(npo[4], '**3.1** ★');
    assert.equal(npo[5], '**0.233 ± 0.025** ★');
    assert.equal(npo[6], '0.521 ± 0.060', 'within the uncertainty of grad-diff: no mark');
    const tv = cells(rows.find((l) => l.includes('task-vector'))!);
    assert.equal(tv[4], '—');
    assert.equal(tv[10], '**1m 35s** ★');
    const oracle = cells(rows.find((l) => l.includes('oracle'))!);
    assert.equal(oracle[6], '0.503 ± 0.063');
    assert.equal(oracle[8], 'n/a');
    for (const ref of rows.slice(2, 4)) assert.ok(!ref.includes('**'), ref);
  });
  test('study facts and skipped-metric notes are listed', () => {
    const md = renderMarkdown(fixture());
    assert.match(md, /^# Study tofu-forget05-demo/);
    assert.match(md, /- \*\*Seeds:\*\* 0/);
    assert.match(md, /- \*\*Suites:\*\* tofu, muse, privacy/);
    assert.match(md, /task-vector α=1\.5 · muse\.privleak: skipped: the Min-K% attack/);
  });
  test('pipes, newlines and markup in labels cannot break the table', () => {
    const s = fixture();
    s.runs[0].label = 'a|b\nc <i>d</i> *e*';
    const rows = renderMarkdown(s)
      .split('\n')
      .filter((l) => l.startsWith('|'));
    assert.equal(rows.length, 7);
    const row = rows.find((l) => l.includes('a\\|b'))!;
    assert.equal(cells(row).length, s.columns.length + 2);
    assert.ok(row.includes('&lt;i&gt;d&lt;/i&gt;') && row.includes('\\*e\\*'));
  });
});

describe('renderLeaderboardText', () => {
  test('aligned table: every line of the body has the same width, best values starred', () => {
    const s = fixture();
    const text = renderLeaderboardText(s);
    const lines = text.trimEnd().split('\n');
    // title, header, rule, 2 refs, rule, 3 runs, legend, one warning
    assert.equal(lines.length, 1 + 1 + 1 + 2 + 1 + s.runs.length + 1 + 1);
    assert.match(lines.at(-1)!, /^⚠ task-vector α=1\.5: icul: context length allows 1 of 3 correct examples/);
    assert.match(lines[2 + 2 + 1 + 3], /^task-vector α=1\.5 ⚠/);
    const width = (l: string): number => [...l].length;
    const rule = lines[2];
    assert.match(rule, /^[─ ]+$/);
    for (const l of lines.slice(1, -2)) assert.ok(width(l) <= width(rule), `${l}`);
    const npo = lines.find((l) => l.startsWith('npo'))!;
    assert.match(npo, /4\.12e-1\*/);
    assert.match(npo, /0\.588\*/);
    assert.match(lines.find((l) => l.startsWith('task-vector'))!, / — /);
    assert.ok(!lines[3].includes('*') && !lines[4].includes('*'), 'references are not starred');
    assert.match(lines[3], /^\(target\) target/);
  });
});
