/**
 * Crash safety and determinism of the CLI: kill -9 at training steps chosen by a seeded generator
 * during `train` (3 kills), `prepare` (2 kills, anywhere in target or oracle training) and
 * `unlearn` (2 kills); afterwards nothing half-written is read as complete, and re-running reaches
 * exactly (byte for byte: weights, config, tokenizer, logs and results without timings) the result
 * of an uninterrupted run, leaving no lock or partial folder behind. Two processes preparing the
 * same models at once share the cache; that uninterrupted run is the prepare baseline.
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
  baseline = {
    key: x.key,
    dir: join(cache, 'models', x.key),
    steps: x.info.target.steps + x.info.oracle.steps,
  };
});

/** Train-log lines written so far by prepare's target and oracle runs (in its work folder). */
const prepareProgress = (cache: string) => {
  const models = join(cache, 'models');
  if (!existsSync(models)) return 0;
  return readdirSync(models)
    .filter((n) => n.endsWith('.partial'))
    .reduce(
      (sum, n) =>
        sum +
        lines(join(models, n, 'target', 'train-log.jsonl')) +
        lines(join(models, n, 'oracle', 'train-log.jsonl')),
      0,
    );
};

/** prepare.json without its timings (seconds differ run to run). */
const prepareInfo = (dir: string) => {
  const info = JSON.parse(readFileSync(join(dir, 'prepare.json'), 'utf8'));
  delete info.target.seconds;
  delete info.oracle.seconds;
  return info;
};

// Filled by the concurrency test below, which runs first: an uninterrupted prepare of seed 3.
let baseline: { key: string; dir: string; steps: number } | null = null;

test('prepare: kill -9 at seeded random steps of target and oracle training, re-run, same bytes as uninterrupted', async (t) => {
  assert.ok(baseline, 'the uninterrupted baseline ran');
  const cache = join(dir, 'cache');
  const args = ['prepare', '--task', 'synthetic:tiny', '--cache', cache, '--config', recipe, '--seed', '3'];
  const rng = new Rng(21);
  const points: number[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const at = rng.int(1, baseline.steps);
    if (await killWhen(args, () => prepareProgress(cache) >= at)) points.push(at);
    // Only complete builds are ever published: a published key always has its prepare.json.
    for (const n of existsSync(join(cache, 'models')) ? readdirSync(join(cache, 'models')) : []) {
      if (!n.includes('.'))
        assert.ok(existsSync(join(cache, 'models', n, 'prepare.json')), `${n} is complete`);
    }
  }
  assert.ok(points.length >= 1, 'at least one prepare was killed mid-training');
  t.diagnostic(`prepare killed after ${points.join(', ')} of ${baseline.steps} training steps`);
  const prepared = JSON.parse(run(args));
  assert.equal(prepared.key, baseline.key);
  for (const m of ['target', 'oracle']) {
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) {
      assert.deepEqual(
        bytes(join(prepared[m], f)),
        bytes(join(baseline.dir, m, f)),
        `${m}/${f} after kills at ${points}`,
      );
    }
  }
  assert.deepEqual(prepareInfo(join(cache, 'models', prepared.key)), prepareInfo(baseline.dir));
  assert.deepEqual(
    readdirSync(join(cache, 'models')).filter((n) => n !== baseline!.key),
    [],
    'no partial folder or lock is left behind',
  );
});

test('unlearn: kill -9 at seeded random steps, re-run, same bytes as uninterrupted', async (t) => {
  const common = [
    '--task',
    'synthetic:tiny',
    '--cache',
    join(dir, 'cache'),
    '--config',
    recipe,
    '--seed',
    '3',
  ];
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
  const total = lines(join(a, 'unlearn-log.jsonl'));
  assert.ok(total >= 3, `${total} logged steps`);
  const rng = new Rng(31);
  const points: number[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const at = rng.int(1, total);
    if (await killWhen(unlearnArgs(b), () => lines(join(b, 'unlearn-log.jsonl')) >= at)) {
      points.push(at);
      assert.ok(!existsSync(join(b, 'manifest.json')), 'a killed run leaves no manifest (it is incomplete)');
    }
  }
  assert.ok(points.length >= 1, 'at least one unlearning run was killed mid-training');
  t.diagnostic(`unlearn killed after ${points.join(', ')} of ${total} steps`);
  run(unlearnArgs(b));
  assert.deepEqual(withoutTimings(join(b, 'manifest.json')), withoutTimings(join(a, 'manifest.json')));
  assert.deepEqual(
    bytes(join(b, 'model.safetensors')),
    bytes(join(a, 'model.safetensors')),
    `after kills at ${points}`,
  );
});
