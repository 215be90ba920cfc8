/**
 * Checking a study before any work: grid planning with ids over the resolved arguments; every
 * method name, argument and grid value against the method's schema; suites, metric names, task
 * and recipe — each error names the file and the key, and an empty cache stays empty (nothing is
 * trained). Study names cannot leave the runs folder.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { checkStudy, planRuns, readStudy, runStudy, StudySchema } from '../../src/study/study.ts';
import { inside } from '../../src/study/study-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-study-config-'));

test('grids expand to one run per combination and seed, with stable ids over resolved arguments', () => {
  const study = StudySchema.parse({
    name: 's',
    seeds: [0, 1],
    methods: [
      { method: 'npo', args: { epochs: 2 }, grid: { lr: [1e-4, 1e-3], beta: [0.1] } },
      { method: 'icul' },
    ],
  });
  const runs = planRuns(study);
  assert.equal(runs.length, 6);
  assert.deepEqual(
    runs.map((r) => r.id),
    planRuns(study).map((r) => r.id),
  );
  assert.equal(new Set(runs.map((r) => r.id)).size, 6);
  assert.match(runs[0].label, /npo lr=0.0001 beta=0.1/);
  assert.equal(runs[0].resolvedArgs.batchSize, 8, 'schema defaults are applied');
  // Spelling out a default is the same run.
  const id = (args: Record<string, unknown>) =>
    planRuns(StudySchema.parse({ name: 's', methods: [{ method: 'ga', args }] }))[0].id;
  assert.equal(id({ lr: 1e-4 }), id({}));
  assert.notEqual(id({ lr: 2e-4 }), id({}));
  assert.throws(
    () =>
      planRuns(
        StudySchema.parse({ name: 's', methods: [{ method: 'ga' }, { method: 'ga', args: { lr: 1e-4 } }] }),
      ),
    /asks for run ga-[0-9a-f]{8}-s0 twice/,
  );
});

/** Write a study file (an empty cache under dir) and check it; returns the error message. */
async function failure(name: string, study: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`);
  const cache = join(dir, `${name}-cache`);
  writeFileSync(
    path,
    JSON.stringify({ name, task: 'synthetic:tiny', cache, out: join(dir, 'runs'), ...study }),
  );
  const started = performance.now();
  let message = '';
  try {
    await runStudy(await checkStudy(readStudy(path), path), { progress: false });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${(e as Error).stack}`);
    message = e.message;
  }
  assert.notEqual(message, '', `${name}: the study was accepted`);
  assert.ok(message.includes(path), `${message} names the file`);
  assert.ok(!existsSync(cache), 'nothing was prepared');
  // Seconds of CPU; the wall-clock bound leaves room for a busy machine.
  assert.ok(performance.now() - started < 30_000, 'fails in seconds');
  return message;
}

test('a misspelt argument fails before any training, naming file, method and key', async () => {
  const m = await failure('lrr', { methods: [{ method: 'icul' }, { method: 'ga', args: { lrr: 1e-4 } }] });
  assert.match(m, /method "ga"/);
  assert.match(m, /methods\[1\] \(ga\): args\.lrr/);
  assert.match(m, /valid keys: .*\blr\b/);
});

test('bad argument values, grid values, methods, suites, metrics, tasks and recipes are named', async () => {
  assert.match(
    await failure('type', { methods: [{ method: 'npo', args: { epochs: 'three' } }] }),
    /methods\[0\] \(npo\): args\.epochs/,
  );
  assert.match(
    await failure('range', { methods: [{ method: 'npo', grid: { lr: [1e-4, -1] } }] }),
    /methods\[0\] \(npo\): grid\.lr\[1\]/,
  );
  assert.match(
    await failure('method', { methods: [{ method: 'ga' }, { method: 'nope' }] }),
    /unknown unlearning method "nope"[\s\S]*methods\[1\] \(nope\): method/,
  );
  assert.match(
    await failure('suite', { suites: ['tofu', 'tofoo'], methods: [{ method: 'ga' }] }),
    /unknown suite "tofoo"[\s\S]*suites\[1\]/,
  );
  assert.match(
    await failure('metric', { metrics: ['mia.los'], methods: [{ method: 'ga' }] }),
    /unknown metric "mia.los"[\s\S]*metrics\[0\]/,
  );
  assert.match(
    await failure('task', { task: 'synthetc:tiny', methods: [{ method: 'ga' }] }),
    /task "synthetc:tiny"[\s\S]*: task/,
  );
  assert.match(
    await failure('recipe', { recipe: { hidden: 30, heads: 4 }, methods: [{ method: 'ga' }] }),
    /recipe\.heads/,
  );
  assert.match(
    await failure('recipe-type', { recipe: { lr: -1 }, methods: [{ method: 'ga' }] }),
    /recipe\.lr/,
  );
  assert.match(await failure('recipe-key', { recipe: { layerz: 2 }, methods: [{ method: 'ga' }] }), /layerz/);
  assert.match(
    await failure('seeds', { seeds: [0, 1, 0], methods: [{ method: 'ga' }] }),
    /seeds[\s\S]*each seed once/,
  );
  assert.match(
    await failure('grid-key', { methods: [{ method: 'ga', grid: { lrr: [1e-4] } }] }),
    /methods\[0\] \(ga\): grid\.lrr\[0\]/,
  );
});

test('bad study files name the file and the key', () => {
  const path = join(dir, 'bad.json');
  writeFileSync(path, JSON.stringify({ name: 'x', methods: [{ method: 'ga', argz: {} }] }));
  assert.throws(
    () => readStudy(path),
    (e: Error) => /bad.json/.test(e.message) && /argz/.test(e.message),
  );
});

test('a study name cannot leave the runs folder', () => {
  for (const name of ['..', '.', '...', 'a/b', '../x', '/etc', 'a\\b', '']) {
    assert.throws(() => StudySchema.parse({ name, methods: [{ method: 'ga' }] }), `${name} is refused`);
  }
  StudySchema.parse({ name: 'demo.v2', methods: [{ method: 'ga' }] });
  assert.equal(inside('/r/runs', 'demo', 'x'), '/r/runs/demo');
  for (const bad of ['..', '.', '../x', '/etc', 'a/../../x']) {
    assert.throws(() => inside('/r/runs', bad, 'x'), ConfigError);
  }
});
