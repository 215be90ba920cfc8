/**
 * The study runner end to end on a hand-made tiny task: plan, prepare, unlearn (child processes),
 * evaluate, summarise; a second run reuses every finished run and yields the same summary; a
 * bad study config is a clear error naming the file and key.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeTask } from '../../src/data/index.ts';
import { planRuns, readStudy, runStudy, StudySchema } from '../../src/study/study.ts';
import '../../src/unlearn/methods/index.ts';
import { tinyTask } from '../../src/unlearn/test-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-study-'));

test('grids expand to one run per combination and seed, with stable ids', () => {
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
  assert.throws(
    () => planRuns(StudySchema.parse({ name: 's', methods: [{ method: 'nope' }] })),
    /unknown unlearning method/,
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

test('a tiny study runs end to end and resumes without redoing finished runs', async () => {
  const taskPath = await writeTask(join(dir, 'task'), tinyTask());
  const study = StudySchema.parse({
    name: 'tiny-test',
    task: taskPath,
    recipe: {
      layers: 1,
      hidden: 32,
      heads: 2,
      vocabSize: 300,
      context: 64,
      epochs: 40,
      batchSize: 12,
      lr: 0.01,
    },
    suites: ['tofu'],
    metrics: ['mia.loss'],
    methods: [{ method: 'ga', args: { epochs: 2, lr: 0.002, batchSize: 4 } }, { method: 'icul' }],
    examples: 1,
    cache: join(dir, 'cache'),
    out: join(dir, 'runs'),
  });
  const first = await runStudy(study, { progress: false });
  const s = first.summary;
  assert.equal(s.runs.length, 2);
  assert.equal(s.references.target.method, 'target');
  const ga = s.runs.find((r) => r.method === 'ga')!;
  assert.ok(ga.curves.step.length > 0 && ga.trainableParameters > 0 && ga.timings.peakRssMb > 0);
  assert.ok(ga.metrics['tofu.forgetQuality'] !== null && ga.metrics['tofu.modelUtility'] !== null);
  assert.ok(s.references.target.metrics['mia.loss']! > s.references.oracle.metrics['mia.loss']!);
  for (const r of s.runs) assert.ok(existsSync(join(first.dir, 'runs', r.id, 'results.json')));
  const again = await runStudy(study, { progress: false });
  // Finished runs are reused: their manifests (with timings) are unchanged, so the summaries match.
  assert.deepEqual(again.summary, s);
  assert.equal(readFileSync(join(first.dir, 'results.jsonl'), 'utf8').trim().split('\n').length, 2);
});
