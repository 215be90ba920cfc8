/**
 * Resume safety: a checkpoint records a fingerprint of what its run was started with (data,
 * tokenizer, recipe, seed), and a resume with anything different is refused with a
 * CheckpointError naming each difference, unless forced; a checkpoint past the requested steps is
 * refused even when forced; resuming a finished run reports its real final loss; half-written
 * checkpoint folders of dead processes are removed; `train --model M --out M` is refused and
 * leaves M untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../../src/errors.ts';
import { buildModel } from '../../src/models/registry.ts';
import { Rng } from '../../src/tensor/index.ts';
import type { Example } from '../../src/text/batch.ts';
import { type TrainOptions, train } from '../../src/train/trainer.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'lethe.js');
const dir = mkdtempSync(join(tmpdir(), 'lethe-resume-'));
const config = {
  model_type: 'llama',
  vocab_size: 40,
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  max_position_embeddings: 32,
};
const examples: Example[] = Array.from({ length: 8 }, (_, i) => ({
  ids: [1, 2 + i, 3, 10 + i, 39],
  start: 3,
}));
const fresh = () => buildModel(config, new Rng(1));
const base = { steps: 6, batchSize: 4, lr: 1e-2, seed: 3, progress: false, checkpointEvery: 3 } as const;

async function trained(name: string, opts: Partial<TrainOptions> = {}) {
  const checkpointDir = join(dir, name);
  const r = await train(fresh(), examples, { ...base, checkpointDir, ...opts });
  return { checkpointDir, r };
}

const refusal = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof CheckpointError, String(e));
  assert.match((e as Error).message, pattern);
  return true;
};

test('a resume with different data, seed, learning rate or fingerprint is refused, naming what differs', async () => {
  const { checkpointDir } = await trained('differs', { fingerprint: { data: 'aaa' } });
  const resume = (opts: Partial<TrainOptions>, data: Example[] = examples) =>
    train(fresh(), data, { ...base, checkpointDir, resume: true, fingerprint: { data: 'aaa' }, ...opts });
  await assert.rejects(resume({ lr: 2e-2 }), refusal(/lr: 0\.01 → 0\.02/));
  await assert.rejects(resume({ seed: 4 }), refusal(/seed: 3 → 4/));
  await assert.rejects(resume({ fingerprint: { data: 'bbb' } }), refusal(/data: "aaa" → "bbb"/));
  const other = examples.map((e) => ({ ...e, ids: [...e.ids.slice(0, 4), 38] }));
  await assert.rejects(resume({}, other), refusal(/examples: /));
  await assert.rejects(resume({ forceResumeHint: '--force-resume', lr: 2e-2 }), /--force-resume/);
  // Forced, the differing run continues from the checkpoint.
  const forced = await resume({ lr: 2e-2, forceResume: true, steps: 8 });
  assert.equal(forced.steps, 8);
});

test('a checkpoint past the requested steps is refused even when forced; one at the end reports its loss', async () => {
  const { checkpointDir, r } = await trained('steps');
  await assert.rejects(
    train(fresh(), examples, { ...base, checkpointDir, resume: true, steps: 3 }),
    refusal(/steps: 6 → 3/),
  );
  await assert.rejects(
    train(fresh(), examples, { ...base, checkpointDir, resume: true, steps: 3, forceResume: true }),
    refusal(/at step 6, past the 3 steps/),
  );
  const again = await train(fresh(), examples, { ...base, checkpointDir, resume: true });
  assert.equal(again.steps, 6);
  assert.ok(Number.isFinite(again.finalLoss));
  assert.equal(again.finalLoss, r.finalLoss);
});

test("a crashed save's checkpoint.tmp-<pid> folder is removed by the next run", async () => {
  const { checkpointDir } = await trained('tmp');
  // The pid of a process that has exited: its half-written folder is garbage.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  mkdirSync(join(checkpointDir, `checkpoint.tmp-${dead}`));
  writeFileSync(join(checkpointDir, `checkpoint.tmp-${dead}`, 'model.safetensors'), 'half');
  await train(fresh(), examples, { ...base, checkpointDir, resume: true, steps: 6 });
  assert.deepEqual(
    readdirSync(checkpointDir).filter((n) => n.startsWith('checkpoint.tmp')),
    [],
  );
});

test('train --model M --out M is refused and M stays byte-identical', () => {
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, Array.from({ length: 40 }, (_, i) => `line ${i % 7} is ${i % 3}.`).join('\n'));
  const model = join(root, 'test', 'fixtures', 'models', 'gpt2');
  const copy = join(dir, 'm');
  mkdirSync(copy);
  for (const f of readdirSync(model)) writeFileSync(join(copy, f), readFileSync(join(model, f)));
  const before = Object.fromEntries(readdirSync(copy).map((f) => [f, readFileSync(join(copy, f))]));
  const r = spawnSync(
    process.execPath,
    [cli, 'train', '--data', corpus, '--model', copy, '--out', `${copy}/.`, '--steps', '1'],
    { encoding: 'utf8' },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--out is the --model folder/);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.deepEqual(
    Object.fromEntries(readdirSync(copy).map((f) => [f, readFileSync(join(copy, f))])),
    before,
  );
  assert.ok(!existsSync(join(copy, 'checkpoints')));
});

test('CLI: train --resume with another corpus is refused naming the data; the same corpus resumes', () => {
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.txt');
  const text = Array.from({ length: 80 }, (_, i) => `Line ${i % 7} says item ${i % 5} is ${i % 3}.`);
  writeFileSync(a, text.join('\n'));
  writeFileSync(b, text.slice(1).join('\n'));
  const out = join(dir, 'cli-out');
  const args = (data: string, extra: string[] = []) => [
    cli,
    'train',
    '--data',
    data,
    '--out',
    out,
    '--layers',
    '1',
    '--hidden',
    '16',
    '--heads',
    '2',
    '--vocab-size',
    '270',
    '--seq-len',
    '8',
    '--steps',
    '4',
    '--batch-size',
    '4',
    '--checkpoint-every',
    '2',
    ...extra,
  ];
  const first = spawnSync(process.execPath, args(a), { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  const other = spawnSync(process.execPath, args(b, ['--resume']), { encoding: 'utf8' });
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /different inputs[\s\S]*data: "[0-9a-f]+" → "[0-9a-f]+"[\s\S]*--force-resume/);
  const shorter = spawnSync(process.execPath, args(a, ['--resume', '--steps', '2']), { encoding: 'utf8' });
  assert.notEqual(shorter.status, 0);
  assert.match(shorter.stderr, /steps: 4 → 2/);
  const same = spawnSync(process.execPath, args(a, ['--resume']), { encoding: 'utf8' });
  assert.equal(same.status, 0, same.stderr);
  const summary = JSON.parse(same.stdout);
  assert.equal(summary.steps, 4);
  assert.equal(summary.finalLoss, JSON.parse(first.stdout).finalLoss);
  assert.deepEqual(
    readdirSync(out).filter((n) => n.includes('tmp')),
    [],
  );
});
