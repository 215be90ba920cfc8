/**
 * The study runner end to end on a hand-made tiny task: plan, prepare, unlearn (child processes),
 * evaluate, summarise. A second run reuses every finished run; editing the recipe redoes the
 * affected work (fresh target, oracle, unlearning and evaluation); adding a metric redoes only the
 * evaluation; the target and oracle are evaluated once per study (cached on disk) and a run's
 * results equal a fresh three-model evaluation; each row names the target and oracle it was graded
 * against and a summary mixing references does not validate.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTask, writeTask } from '../../src/data/index.ts';
import { evaluate } from '../../src/eval/index.ts';
import { runStudy, type Study, StudySchema } from '../../src/study/study.ts';
import { SummarySchema } from '../../src/study/study-schema.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-study-'));

const manifestOf = (studyDir: string, id: string) =>
  JSON.parse(readFileSync(join(studyDir, 'runs', id, 'model', 'manifest.json'), 'utf8'));
const mtime = (p: string) => statSync(p).mtimeMs;
const withoutWallTime = (s: unknown) => {
  const copy = structuredClone(s) as { study: { wallTime?: unknown } };
  delete copy.study.wallTime;
  return copy;
};

let study: Study;

test('a tiny study runs end to end, resumes, and records its references and costs', async () => {
  const taskPath = await writeTask(join(dir, 'task'), tinyTask());
  study = StudySchema.parse({
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

  // Every row names the pair it was graded against; the references carry their training cost.
  const set = s.study.references![0];
  assert.match(set.target.hash, /^[0-9a-f]{64}$/);
  assert.notEqual(set.target.hash, set.oracle.hash);
  for (const r of s.runs) assert.deepEqual(r.gradedAgainst, set);
  const training = s.references.target.training!;
  assert.ok(training.seconds > 0 && training.steps > 0 && training.tokens! > 0);
  assert.equal(training.flops, 6 * training.tokens! * readParams(set.target.dir));
  assert.ok(s.references.oracle.training!.tokens! < training.tokens!, 'the oracle trains on retain only');
  // Each run's cost as a fraction of the oracle's training (time, and 6·N·tokens FLOPs).
  const oracleCost = s.references.oracle.training!;
  for (const r of s.runs) assert.equal(r.costVsOracle!.time, r.timings.seconds / oracleCost.seconds);
  const gaCost = ga.costVsOracle!;
  assert.ok(gaCost.runFlops! > 0);
  assert.ok(Math.abs(gaCost.flops! - gaCost.runFlops! / oracleCost.flops!) < 1e-12);
  assert.equal(s.runs.find((r) => r.method === 'icul')!.costVsOracle!.flops, 0, 'icul trains nothing');
  const wt = s.study.wallTime!;
  assert.ok(wt.training > 0 && wt.unlearning > 0 && wt.evaluation > 0);
  // Each phase's wall time lies within the total and within its busy time (phases may overlap
  // with jobs > 1; with one job they add up to at most the total).
  for (const k of ['training', 'unlearning', 'evaluation'] as const) {
    assert.ok(wt[k] <= wt.total + 1e-3 && wt[k] <= wt.busy![k] + 1e-3, k);
  }
  if (wt.jobs === 1) assert.ok(wt.total >= wt.training + wt.unlearning + wt.evaluation - 1e-3);

  // The target and oracle were evaluated once for the study, and reused by both runs.
  assert.equal(readdirSync(join(dir, 'cache', 'evals')).length, 1);

  const again = await runStudy(study, { progress: false });
  // Finished runs are reused: their manifests (with timings) are unchanged, so the summaries match.
  assert.deepEqual(withoutWallTime(again.summary), withoutWallTime(s));
  assert.equal(again.summary.study.wallTime!.unlearning, 0);
  assert.ok(again.summary.study.wallTime!.training < 0.5, 'the cached target and oracle are reused');
  assert.equal(readFileSync(join(first.dir, 'results.jsonl'), 'utf8').trim().split('\n').length, 2);
});

function readParams(dirFromCwd: string): number {
  const prep = JSON.parse(readFileSync(join(dirFromCwd, '..', 'prepare.json'), 'utf8'));
  return prep.parameters;
}

test("a run's results equal a fresh evaluation of all three models", async () => {
  const s = JSON.parse(readFileSync(join(dir, 'runs', 'tiny-test', 'summary.json'), 'utf8'));
  const ga = s.runs.find((r: { method: string }) => r.method === 'ga');
  const runDir = join(dir, 'runs', 'tiny-test', 'runs', ga.id);
  const stored = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
  const fresh = await evaluate({
    task: await loadTask(study.task),
    taskSpec: study.task,
    suite: 'tofu',
    metrics: ['mia.loss'],
    model: { dir: join(runDir, 'model') },
    oracle: { dir: s.study.references[0].oracle.dir },
    target: { dir: s.study.references[0].target.dir },
    options: { seed: 0, progress: false },
  });
  assert.deepEqual(stored.metrics, JSON.parse(JSON.stringify(fresh.metrics)));
  assert.deepEqual(stored.closeness, JSON.parse(JSON.stringify(fresh.closeness)));
});

test('editing the recipe gives fresh results, not "done earlier, reusing"', async () => {
  const studyDir = join(dir, 'runs', 'tiny-test');
  const before = JSON.parse(readFileSync(join(studyDir, 'summary.json'), 'utf8'));
  const ga = before.runs.find((r: { method: string }) => r.method === 'ga');
  const oldManifest = manifestOf(studyDir, ga.id);
  const edited = { ...study, recipe: { ...study.recipe, epochs: 30 } };
  const after = (await runStudy(edited, { progress: false })).summary;
  const set = after.study.references![0];
  assert.notEqual(set.prepareKey, before.study.references[0].prepareKey);
  assert.notEqual(set.target.hash, before.study.references[0].target.hash);
  for (const r of after.runs) assert.deepEqual(r.gradedAgainst, set);
  const newManifest = manifestOf(studyDir, ga.id);
  assert.notEqual(newManifest.extra.runKey, oldManifest.extra.runKey, 'unlearned again');
  assert.equal(newManifest.extra.target, join(dir, 'cache', 'models', set.prepareKey, 'target'));
  assert.ok(after.study.wallTime!.training > 0 && after.study.wallTime!.unlearning > 0);
  // The stored results are those of the new references.
  const results = JSON.parse(readFileSync(join(studyDir, 'runs', ga.id, 'results.json'), 'utf8'));
  assert.equal(results.models.oracle.dir, join(dir, 'cache', 'models', set.prepareKey, 'oracle'));
});

test('asking for another metric re-evaluates every run but keeps the unlearned models', async () => {
  const studyDir = join(dir, 'runs', 'tiny-test');
  const edited = { ...study, recipe: { ...study.recipe, epochs: 30 }, metrics: ['mia.loss', 'mia.zlib'] };
  const before = JSON.parse(readFileSync(join(studyDir, 'summary.json'), 'utf8'));
  const ids: string[] = before.runs.map((r: { id: string }) => r.id);
  const manifests = ids.map((id) =>
    readFileSync(join(studyDir, 'runs', id, 'model', 'manifest.json'), 'utf8'),
  );
  const resultsTimes = ids.map((id) => mtime(join(studyDir, 'runs', id, 'results.json')));
  const after = (await runStudy(edited, { progress: false })).summary;
  assert.equal(after.study.wallTime!.unlearning, 0);
  assert.ok(after.study.wallTime!.training < 0.5);
  assert.ok(after.study.wallTime!.evaluation > 0);
  ids.forEach((id, i) => {
    assert.equal(readFileSync(join(studyDir, 'runs', id, 'model', 'manifest.json'), 'utf8'), manifests[i]);
    assert.ok(mtime(join(studyDir, 'runs', id, 'results.json')) > resultsTimes[i]);
    const r = JSON.parse(readFileSync(join(studyDir, 'runs', id, 'results.json'), 'utf8'));
    assert.ok(r.metricNames.includes('mia.zlib'));
    assert.ok('value' in r.metrics['mia.zlib'].oracle);
  });
});

test('a summary mixing rows graded against different references does not validate', () => {
  const s = JSON.parse(readFileSync(join(dir, 'runs', 'tiny-test', 'summary.json'), 'utf8'));
  SummarySchema.parse(s);
  s.runs[1].gradedAgainst.oracle.hash = '0'.repeat(64);
  assert.throws(() => SummarySchema.parse(s), /was not graded against the study's target and oracle/);
});
