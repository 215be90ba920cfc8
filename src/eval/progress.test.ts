/**
 * Evaluation progress without a terminal: plain lines with the step, the share done and an ETA
 * from the mean time per finished step, throttled so logs stay short. Exact strings, fake clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEta, lineProgress } from './progress.ts';

test('plain progress lines carry step, percentage and ETA, at most one per interval', () => {
  const lines: string[] = [];
  let now = 0;
  const p = lineProgress(
    4,
    (l) => lines.push(l),
    () => now,
    5000,
  );
  p.tick('target tofu.forget.prob');
  now = 10_000;
  p.tick('target mia.loss');
  now = 11_000; // within 5 s of the last line: no line
  p.tick('oracle tofu.forget.prob');
  now = 12_000; // the last step always prints
  p.tick('oracle mia.loss');
  assert.deepEqual(lines, [
    'eval: 1/4 (0%) target tofu.forget.prob\n',
    'eval: 2/4 (25%) target mia.loss, ETA 30s\n',
    'eval: 4/4 (75%) oracle mia.loss, ETA 4s\n',
  ]);
  assert.equal(formatEta(65), '1m 05s');
  assert.equal(formatEta(Number.NaN), '?');
});
