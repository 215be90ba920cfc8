/**
 * A run's row extras: search.json as the summary's `search` (NaN as null, the oracle's choice and
 * gap carried over, a broken file a clear error) and cost as fractions of the oracle's training.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataError } from '../errors.ts';
import { costVsOracle, readRunSearch, runTrainingFlops } from './run-extras.ts';
import type { SearchResult } from './search.ts';
import { RunSearchSchema } from './study-schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-run-extras-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const metrics = (miaAuc: number) => ({ retainProb: 0.6, perplexity: Number.NaN, miaAuc });

test('search.json becomes the row: every trial, the choice, the oracle choice and gap', () => {
  const saved: SearchResult = {
    spec: {
      strategy: 'halving',
      space: { lr: [1e-4, 1e-3] },
      budget: 2,
      minSteps: 5,
      eta: 2,
      utilityFloor: 0.9,
      validation: 0.2,
      seed: 0,
    },
    target: metrics(0.8),
    trials: [
      {
        args: { lr: 1e-4, steps: 5 },
        rung: 0,
        metrics: metrics(0.7),
        utility: 0.99,
        eligible: true,
        seconds: 2,
      },
      {
        args: { lr: 1e-3, steps: 5 },
        rung: 0,
        metrics: metrics(0.6),
        utility: 0.93,
        eligible: true,
        seconds: 3,
      },
      {
        args: { lr: 1e-3, steps: 10 },
        rung: 1,
        metrics: metrics(Number.NaN),
        utility: Number.NaN,
        eligible: false,
        seconds: 5,
        oracleGrade: 0.2,
      },
    ],
    chosen: { lr: 1e-3, steps: 10 },
    chosenIndex: 2,
    eligible: false,
    validationItems: 12,
    oracleChoice: { index: 2, gap: 0 },
  };
  const runDir = join(dir, 'run');
  rmSync(runDir, { recursive: true, force: true });
  assert.equal(readRunSearch(runDir), undefined, 'no search.json: not a searched run');
  mkdirSync(runDir, { recursive: true });
  // As searchedArgs writes it: JSON, so NaN is written as null.
  writeFileSync(join(runDir, 'search.json'), JSON.stringify(saved, null, 2));
  const row = readRunSearch(runDir)!;
  assert.deepEqual(RunSearchSchema.parse(row), row, 'valid for the summary schema');
  assert.equal(row.strategy, 'halving');
  assert.equal(row.utilityFloor, 0.9);
  assert.equal(row.validationItems, 12);
  assert.deepEqual(
    row.trials.map((t) => [t.rung, t.miaAuc, t.utility, t.eligible, t.oracleGrade]),
    [
      [0, 0.7, 0.99, true, null],
      [0, 0.6, 0.93, true, null],
      [1, null, null, false, 0.2],
    ],
  );
  assert.equal(row.chosen, 2);
  assert.equal(row.eligible, false);
  assert.equal(row.oracleChoice, 2);
  assert.equal(row.gap, 0);
  assert.equal(row.oracleMetric, 'tofu.forgetQuality');
  assert.equal(row.seconds, 10);

  writeFileSync(join(runDir, 'search.json'), '{"trials": [');
  assert.throws(
    () => readRunSearch(runDir),
    (e: unknown) => e instanceof DataError && /not valid JSON/.test(String(e)),
  );
  writeFileSync(join(runDir, 'search.json'), JSON.stringify({ ...saved, chosenIndex: 3 }));
  assert.throws(() => readRunSearch(runDir), /chosen index is out of range/);
});

test('cost against the oracle: time and FLOPs fractions, and the whole search for a searched run', () => {
  assert.deepEqual(costVsOracle({ seconds: 30, flops: 6e9, oracle: { seconds: 600, flops: 1.2e12 } }), {
    time: 0.05,
    flops: 0.005,
    runFlops: 6e9,
  });
  // The run is one of the search's trials: its time is inside the search's, not added to it.
  const searched = costVsOracle({ seconds: 30, flops: null, oracle: { seconds: 600 }, searchSeconds: 90 });
  assert.deepEqual(searched, { time: 0.05, flops: null, runFlops: null, withSearch: 0.15 });
  assert.equal(costVsOracle({ seconds: 1, flops: 1, oracle: { seconds: 0, flops: 0 } }).time, null);
});

test("a run's training FLOPs are 6·N·tokens over its step log; none logged is 0 or unknown", () => {
  const m = join(dir, 'model');
  mkdirSync(m, { recursive: true });
  assert.equal(runTrainingFlops(m, 1000, 0), 0, 'no steps, no log: nothing trained');
  assert.equal(runTrainingFlops(m, 1000, 4), null, 'steps without a log: unknown');
  writeFileSync(
    join(m, 'unlearn-log.jsonl'),
    '{"step":1,"loss":1,"tokens":40}\n{"step":2,"loss":1,"tokens":60}\n',
  );
  assert.equal(runTrainingFlops(m, 1000, 2), 6 * 1000 * 100);
});
