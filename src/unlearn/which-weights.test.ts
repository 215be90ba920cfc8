/**
 * Which weights move: LoRA adapts only modules that `layers=` and the method's own trainable set
 * allow (RMU under LoRA: the MLP down-projections of its blocks), saliency masks with LoRA are
 * refused, and early stopping follows Jang et al. (MA and EL both at the holdout level).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tinyWorld } from '../../test/helpers/unlearn-world.ts';
import { ConfigError } from '../errors.ts';
import { reachedHoldout } from './early-stop.ts';
import { planUnlearn, unlearn } from './runner.ts';

const quick = { epochs: 2, lr: 5e-3, batchSize: 4 };

/** Names of the parameters whose values changed during `run`. */
async function changed(method: string, args: Record<string, unknown>): Promise<string[]> {
  const w = await tinyWorld();
  const before = new Map(w.model.namedParameters().map(([n, t]) => [n, t.f32.slice()]));
  await unlearn({ ...w, method, args: { ...quick, ...args }, progress: false });
  return w.model
    .namedParameters()
    .filter(([n, t]) => t.f32.some((x, i) => x !== before.get(n)![i]))
    .map(([n]) => n);
}

test('lora respects layers=: adapters only in the selected blocks', async () => {
  const moved = await changed('npo', { lora: 2, layers: 'h\\.1\\.' });
  assert.ok(moved.length > 0);
  assert.ok(
    moved.every((n) => n.includes('.h.1.')),
    `moved outside block 1: ${moved.join(', ')}`,
  );
});

test('rmu under lora adapts only the MLP down-projections of its blocks', async () => {
  const moved = await changed('rmu', { lora: 2 });
  assert.ok(moved.length > 0);
  assert.ok(
    moved.every((n) => /\.h\.[01]\.mlp\.c_proj\.weight$/.test(n)),
    `moved: ${moved.join(', ')}`,
  );
});

test('a saliency mask with lora is refused before anything runs', async () => {
  const { task } = await tinyWorld();
  assert.throws(
    () => planUnlearn('ga', task, { lora: 2, mask: 'grad' }),
    (e: Error) => e instanceof ConfigError && /mask=grad cannot be combined with lora=2/.test(e.message),
  );
});

test('Jang et al.: stop only when both MA and EL reach the holdout level', async () => {
  const holdout = { ma: 0.3, el: 0.2 };
  assert.equal(reachedHoldout({ ma: 0.2, el: 0.5 }, holdout), false, 'MA low but EL still high');
  assert.equal(reachedHoldout({ ma: 0.5, el: 0.1 }, holdout), false, 'EL low but MA still high');
  assert.equal(reachedHoldout({ ma: 0.3, el: 0.2 }, holdout), true);
  assert.equal(reachedHoldout({ ma: 0.2, el: Number.NaN }, holdout), true, 'no EL: MA decides');
  const dir = mkdtempSync(join(tmpdir(), 'lethe-early-'));
  try {
    const w = await tinyWorld();
    const logFile = join(dir, 'log.jsonl');
    await unlearn({
      ...w,
      method: 'ga',
      args: { ...quick, epochs: 3, earlyStop: true, evalEvery: 1, elN: 2 },
      progress: false,
      logFile,
    });
    const first = JSON.parse(readFileSync(logFile, 'utf8').split('\n')[0]);
    for (const k of ['forgetMA', 'holdoutMA', 'forgetEL', 'holdoutEL'])
      assert.equal(typeof first[k], 'number', `${k} logged`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
