/**
 * Fuzzing every parser of outside input with seeded random corruptions (byte flips, truncation,
 * junk and invalid UTF-8, absurd numbers, moved spans, duplicated spans). Every case must end in
 * one of two ways: a LetheError that names the file, or a loaded object that is self-consistent
 * (see fuzz-cases.ts) — never another exception, never a hang: each case runs in a worker thread
 * that is stopped, failing the test, when one case takes over CASE_LIMIT_MS.
 *
 * Targets: a safetensors file, a model folder's config.json, the real GPT-2 and Mistral
 * tokenizer.json from ../shared/datasets/tokenizers (skipped with a printed reason where ../shared
 * is absent; under CI=true or LETHE_REQUIRE_SHARED=1 that fails instead), JSONL data, every data
 * file a task folder holds under its real name (forget.qa.jsonl, retain.qa.jsonl, eval/…), the
 * task.json, and a study config.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { writeTask } from '../../src/data/index.ts';
import { GPT2_DIR, MISTRAL_DIR, skipUnless } from '../helpers/shared-datasets.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';
import type { FuzzJob, FuzzMessage } from './fuzz-cases.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lethe-fuzz-'));
const CASE_LIMIT_MS = 10_000;
const totals = { cases: 0, rejected: 0, loaded: 0 };

/** Run one job's cases in a worker; fail on any bad outcome or a case over the time limit. */
function fuzz(job: FuzzJob): Promise<{ rejected: number; loaded: number }> {
  return new Promise((resolve, reject) => {
    // Workers do not inherit the TypeScript loader: register it, then import the cases module.
    const boot = `(async () => {
      (await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register();
      await import(${JSON.stringify(new URL('./fuzz-cases.ts', import.meta.url).href)});
    })();`;
    const worker = new Worker(boot, { eval: true, workerData: job });
    const counts = { rejected: 0, loaded: 0 };
    let timer: NodeJS.Timeout | undefined;
    let failure: Error | null = null;
    const name = `${job.kind} ${relative(dir, job.file)}`;
    worker.on('message', (m: FuzzMessage) => {
      clearTimeout(timer);
      if (m.type === 'start') {
        timer = setTimeout(() => {
          failure = new Error(`${name} case ${m.index}: still running after ${CASE_LIMIT_MS} ms (a hang)`);
          void worker.terminate();
        }, CASE_LIMIT_MS);
      } else if (m.type === 'fail') {
        failure = new Error(`${name} case ${m.index}: ${m.message}`);
        void worker.terminate();
      } else counts[m.outcome]++;
    });
    worker.on('error', (e) => {
      failure ??= e;
    });
    worker.on('exit', () => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (counts.rejected + counts.loaded !== job.cases)
        return reject(new Error(`${name}: ${counts.rejected + counts.loaded} of ${job.cases} cases ran`));
      totals.cases += job.cases;
      totals.rejected += counts.rejected;
      totals.loaded += counts.loaded;
      resolve(counts);
    });
  });
}

/** A copy of `src` in a fresh folder of the temp dir; returns its path. */
function copy(src: string, name: string): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, src.split('/').pop()!);
  copyFileSync(src, path);
  return path;
}

const listFiles = (folder: string): string[] =>
  readdirSync(folder)
    .sort()
    .flatMap((n) =>
      statSync(join(folder, n)).isDirectory() ? listFiles(join(folder, n)) : [join(folder, n)],
    );

test('safetensors files', async () => {
  const file = copy(join(root, 'test', 'fixtures', 'models', 'gpt2', 'model.safetensors'), 'st');
  await fuzz({ kind: 'safetensors', file, load: file, cases: 60, seed: 1 });
});

test('model folders: config.json (loaded models must run a forward pass)', async () => {
  const src = join(root, 'test', 'fixtures', 'models', 'gpt2');
  const weights = copy(join(src, 'model.safetensors'), 'model');
  const file = copy(join(src, 'config.json'), 'model');
  await fuzz({ kind: 'model-config', file, load: join(weights, '..'), cases: 60, seed: 2 });
});

for (const [name, folder] of [
  ['GPT-2', GPT2_DIR],
  ['Mistral', MISTRAL_DIR],
] as const) {
  const src = join(folder, 'tokenizer.json');
  test(`the real ${name} tokenizer.json`, { skip: skipUnless(src) }, async () => {
    const file = copy(src, `tok-${name}`);
    await fuzz({ kind: 'tokenizer', file, load: file, cases: 25, seed: 3 });
  });
}

test('JSONL data files', async () => {
  const file = join(dir, 'data.jsonl');
  writeFileSync(
    file,
    ['{"prompt":"Q1","answer":"A1"}', '{"prompt":"Q2","answer":"A2"}', '{"text":"t"}'].join('\n'),
  );
  await fuzz({ kind: 'jsonl', file, load: file, cases: 60, seed: 4 });
});

test('every file of a task folder, under its real name, and the task.json', async () => {
  const taskPath = await writeTask(join(dir, 'task'), tinyTask());
  const files = listFiles(join(dir, 'task'));
  const names = files.map((f) => relative(join(dir, 'task'), f));
  assert.ok(names.includes('forget.qa.jsonl') && names.includes('retain.qa.jsonl'), names.join(', '));
  for (const [i, file] of files.entries()) {
    await fuzz({ kind: 'task', file, load: taskPath, cases: file === taskPath ? 40 : 25, seed: 10 + i });
  }
});

test('study configs', async () => {
  const file = copy(join(root, 'configs', 'demo.json'), 'study');
  await fuzz({ kind: 'study', file, load: file, cases: 40, seed: 5 });
});

test('summary', (t) => {
  t.diagnostic(
    `${totals.cases} cases: ${totals.rejected} rejected with a LetheError, ${totals.loaded} loaded consistently`,
  );
  assert.ok(totals.cases >= 400, `${totals.cases} cases ran`);
});
