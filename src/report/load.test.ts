/**
 * loadSummary: the fixture validates, and every way a summary can be wrong gives a DataError that
 * names the file and the exact field. Messages are compared by substring (their wording around
 * the facts may change; the facts may not).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURE_PATH, fixture } from '../../test/helpers/report-fixture.ts';
import { DataError } from '../errors.ts';
import { formatPath, loadSummary } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-report-load-'));
let n = 0;
function write(data: unknown): string {
  const path = join(dir, `summary-${n++}.json`);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

function rejects(path: string, ...needles: string[]): void {
  assert.throws(
    () => loadSummary(path),
    (err: unknown) => {
      assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
      for (const needle of needles)
        assert.ok(err.message.includes(needle), `"${needle}" in:\n${err.message}`);
      return true;
    },
  );
}

describe('loadSummary', () => {
  test('the fixture is a valid summary with three runs and both references', () => {
    const s = loadSummary(FIXTURE_PATH);
    assert.equal(s.runs.length, 3);
    assert.equal(s.references.target.kind, 'reference');
    assert.match(s.study.description ?? '', /TEST DATA/);
  });
  test('a wrong value type names the file, the field and the run id', () => {
    const s = fixture() as unknown as { runs: { metrics: Record<string, unknown> }[] };
    s.runs[1].metrics['muse.privleak'] = 'high';
    const path = write(s);
    rejects(path, path, 'runs[1].metrics["muse.privleak"]', '(run "npo-s0")', 'expected number');
  });
  test('an unknown key is named', () => {
    const s = fixture() as unknown as { study: Record<string, unknown> };
    s.study.colour = 'blue';
    rejects(write(s), 'study', 'unknown key(s) "colour"');
  });
  test('a missing field is named', () => {
    const s = fixture() as unknown as { references: { oracle: Record<string, unknown> } };
    delete s.references.oracle.timings;
    rejects(write(s), 'references.oracle.timings');
  });
  test('another format version gets a hint about versions', () => {
    const s = fixture() as unknown as Record<string, unknown>;
    s.format = 'lethe-study/2';
    rejects(write(s), 'format', 'lethe-study/1', '"lethe-study/2"');
  });
  test('many problems are listed, then counted', () => {
    const s = fixture() as unknown as { runs: { seed: unknown; metrics: Record<string, unknown> }[] };
    for (const run of s.runs) {
      run.seed = 'x';
      run.metrics['muse.verbmem.forget'] = 'x';
      run.metrics['mia.loss'] = 'x';
    }
    rejects(write(s), 'runs[0].seed', 'runs[0].metrics["muse.verbmem.forget"]', '... and 1 more');
  });
  test('missing file and broken JSON', () => {
    rejects(join(dir, 'nope.json'), 'nope.json', 'no such file', 'lethe bench');
    const bad = write('{"format": "lethe-study/1", ');
    rejects(bad, bad, 'not valid JSON');
  });
  test('formatPath', () => {
    assert.equal(formatPath(['runs', 2, 'metrics', 'forgetQuality']), 'runs[2].metrics.forgetQuality');
    assert.equal(formatPath(['runs', 0, 'args', 'a b']), 'runs[0].args["a b"]');
    assert.equal(formatPath([]), '(top level)');
  });
});
