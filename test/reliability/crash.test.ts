/**
 * Crash safety and determinism of the CLI: kill -9 at points chosen by a seeded generator during
 * `train`, `unlearn` and `prepare`; afterwards nothing half-written is read as complete, and
 * re-running reaches exactly (byte for byte) the result of an uninterrupted run. The same
 * command with the same seed and thread count writes byte-identical results (timings aside).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../src/tensor/rng.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'lethe.js');
const dir = mkdtempSync(join(tmpdir(), 'lethe-crash-'));
const env = { ...process.env, LETHE_THREADS: '2' };
const corpus = join(dir, 'corpus.txt');
writeFileSync(
  corpus,
  Array.from(
    { length: 120 },
    (_, i) => `Line ${i % 7} says that item ${i % 5} is ${['red', 'blue', 'green'][i % 3]}.`,
  ).join('\n'),
);
const recipe = join(dir, 'recipe.json');
writeFileSync(
  recipe,
  JSON.stringify({ layers: 1, hidden: 32, heads: 2, vocabSize: 300, epochs: 6, batchSize: 8, lr: 5e-3 }),
);

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const lines = (path: string) =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;

/** Start a command and SIGKILL it once `ready()` is true (or it exits by itself). */
async function killWhen(args: string[], ready: () => boolean): Promise<boolean> {
  const child: ChildProcess = spawn(process.execPath, [cli, ...args], { env, stdio: 'ignore' });
  const exited = new Promise<boolean>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal === 'SIGKILL')),
  );
  const timer = setInterval(() => {
    if (ready()) child.kill('SIGKILL');
  }, 20);
  const killed = await exited;
  clearInterval(timer);
  return killed;
}

const bytes = (path: string) => readFileSync(path);
const withoutTimings = (path: string) => {
  const m = JSON.parse(readFileSync(path, 'utf8'));
  delete m.timings;
  return m;
};

test('train: kill -9 at random steps, resume, and end byte-identical to an uninterrupted run', async () => {
  const args = (out: string) => [
    'train',
    '--data',
    corpus,
    '--out',
    out,
    '--layers',
    '1',
    '--hidden',
    '32',
    '--heads',
    '2',
    '--vocab-size',
    '300',
    '--seq-len',
    '16',
    '--steps',
    '40',
    '--batch-size',
    '8',
    '--checkpoint-every',
    '3',
  ];
  const whole = join(dir, 'train-whole');
  run(args(whole));
  const crashed = join(dir, 'train-crashed');
  const rng = new Rng(11);
  let kills = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const at = lines(join(crashed, 'train-log.jsonl')) + rng.int(2, 10);
    if (await killWhen([...args(crashed), '--resume'], () => lines(join(crashed, 'train-log.jsonl')) >= at))
      kills++;
    // Whatever was on disk at the kill: a checkpoint folder is complete or absent, never partial.
    const ck = join(crashed, 'checkpoints', 'checkpoint');
    if (existsSync(ck))
      assert.ok(existsSync(join(ck, 'state.json')), 'a published checkpoint always has its state.json');
  }
  assert.ok(kills >= 1, 'at least one run was killed mid-training');
  run([...args(crashed), '--resume']);
  assert.deepEqual(bytes(join(crashed, 'model.safetensors')), bytes(join(whole, 'model.safetensors')));
  const steps = readFileSync(join(crashed, 'train-log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).step);
  assert.deepEqual(
    steps,
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
});

test('prepare and unlearn: kill -9, re-run, same bytes; same seed twice gives identical results', async () => {
  const cache = join(dir, 'cache');
  const common = ['--task', 'synthetic:tiny', '--cache', cache, '--config', recipe];
  // Kill prepare while it trains the target; the stale lock and partial folder are taken over.
  const building = () =>
    existsSync(join(cache, 'models')) &&
    readdirSync(join(cache, 'models')).some((n) => n.endsWith('.partial'));
  assert.ok(await killWhen(['prepare', ...common], building), 'prepare was killed while building');
  const prepared = JSON.parse(run(['prepare', ...common]));
  assert.ok(
    existsSync(join(prepared.target, 'config.json')) && existsSync(join(prepared.oracle, 'config.json')),
  );
  assert.ok(!readdirSync(join(cache, 'models')).some((n) => n.endsWith('.lock')));

  const unlearnArgs = (out: string) => [
    'unlearn',
    ...common,
    '--method',
    'npo',
    '--arg',
    'epochs=3',
    '--out',
    out,
  ];
  const a = join(dir, 'ul-a');
  const b = join(dir, 'ul-b');
  run(unlearnArgs(a));
  await killWhen(unlearnArgs(b), () => lines(join(b, 'unlearn-log.jsonl')) >= 2);
  assert.ok(!existsSync(join(b, 'manifest.json')), 'a killed run leaves no manifest (it is incomplete)');
  run(unlearnArgs(b));
  assert.deepEqual(withoutTimings(join(b, 'manifest.json')), withoutTimings(join(a, 'manifest.json')));
  assert.deepEqual(bytes(join(b, 'model.safetensors')), bytes(join(a, 'model.safetensors')));
});

test('two processes preparing the same models share the cache without corrupting or duplicating it', async () => {
  const cache = join(dir, 'shared-cache');
  const args = [
    cli,
    'prepare',
    '--task',
    'synthetic:tiny',
    '--cache',
    cache,
    '--config',
    recipe,
    '--seed',
    '3',
  ];
  const start = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
      });
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
  const [x, y] = (await Promise.all([start(), start()])).map((o) => JSON.parse(o));
  assert.equal(x.key, y.key);
  assert.equal(
    [x.reused, y.reused].filter(Boolean).length,
    1,
    'exactly one process trained, the other reused',
  );
  assert.deepEqual(readdirSync(join(cache, 'models')), [x.key]);
});
