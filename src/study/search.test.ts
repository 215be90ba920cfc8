/**
 * Tuning without the oracle: settings are drawn as declared, the validation part of retain is
 * kept from the method by whole subjects, the rule picks the eligible setting whose membership
 * AUC is closest to 0.5, and successive halving trains its finalists longer.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tinyWorld } from '../../test/helpers/unlearn-world.ts';
import { taskHash } from '../data/index.ts';
import { ConfigError } from '../errors.ts';
import { savePretrained } from '../text/pretrained.ts';
import { subjectOf } from '../unlearn/runner.ts';
import { adoptTrial } from './adopt-trial.ts';
import {
  candidateSettings,
  ruleOrder,
  SearchSpecSchema,
  searchedArgs,
  searchMethod,
  type Trial,
  trialDir,
  validationSplit,
} from './search.ts';
import { planRuns, StudySchema } from './study.ts';
import { readManifest, runUnlearnJob } from './unlearn-job.ts';

test('grid and random settings: every combination, or seeded draws inside the ranges', () => {
  const grid = candidateSettings(SearchSpecSchema.parse({ space: { lr: [1, 2], alpha: [3, 4, 5] } }));
  assert.equal(grid.length, 6);
  const spec = SearchSpecSchema.parse({
    strategy: 'random',
    budget: 20,
    space: {
      lr: { min: 1e-5, max: 1e-2, log: true },
      steps: { min: 5, max: 50, int: true },
      beta: [0.1, 0.5],
    },
  });
  const a = candidateSettings(spec);
  assert.deepEqual(a, candidateSettings(spec), 'seeded');
  assert.equal(a.length, 20);
  for (const s of a) {
    assert.ok((s.lr as number) >= 1e-5 && (s.lr as number) <= 1e-2);
    assert.ok(Number.isInteger(s.steps) && (s.steps as number) >= 5 && (s.steps as number) <= 50);
    assert.ok([0.1, 0.5].includes(s.beta as number));
  }
  assert.ok(
    a.some((s) => (s.lr as number) < 1e-4),
    'log-uniform reaches the low decades',
  );
  assert.throws(
    () => SearchSpecSchema.parse({ space: { lr: { min: 1, max: 2 } } }),
    /grid search needs a list/,
  );
});

test('the validation part holds whole retain subjects, kept from the method', async () => {
  const { task } = await tinyWorld();
  const { task: seen, validation } = validationSplit(task, 0.25, 0);
  assert.equal(validation.length, 2);
  const held = new Set(validation.map((q) => subjectOf(q.id)));
  assert.ok(seen.splits.retain.qa.every((q) => !held.has(subjectOf(q.id))));
  assert.equal(seen.splits.retain.qa.length + validation.length, task.splits.retain.qa.length);
  assert.deepEqual(seen.splits.forget, task.splits.forget);
  const one = {
    ...task,
    splits: { ...task.splits, retain: { ...task.splits.retain, qa: task.splits.retain.qa.slice(0, 1) } },
  };
  assert.throws(() => validationSplit(one, 0.5, 0), ConfigError);
});

test('the rule: eligible settings first, then the AUC closest to 0.5; else the most useful', () => {
  const t = (auc: number, utility: number, eligible: boolean): Trial => ({
    args: {},
    rung: 0,
    metrics: { retainProb: 1, perplexity: 1, miaAuc: auc },
    utility,
    eligible,
    seconds: 0,
  });
  const trials = [t(0.5, 0.5, false), t(0.9, 0.99, true), t(0.45, 0.96, true), t(0.6, 0.97, true)];
  assert.equal([...trials].sort(ruleOrder)[0], trials[2]);
  const none = [t(0.5, 0.5, false), t(0.9, 0.8, false)];
  assert.equal([...none].sort(ruleOrder)[0], none[1]);
});

test('a grid search chooses by the rule on forget, holdout and retain data only', async () => {
  const w = await tinyWorld();
  const r = await searchMethod({
    ...w,
    method: 'grad-diff',
    args: { epochs: 2, batchSize: 4 },
    spec: SearchSpecSchema.parse({ space: { lr: [1e-4, 3e-3, 3e-2] }, validation: 0.25 }),
    seed: 0,
  });
  assert.equal(r.trials.length, 3);
  assert.ok(r.target.miaAuc > 0.9, `the target tells forget from holdout (AUC ${r.target.miaAuc})`);
  const best = [...r.trials].sort(ruleOrder)[0];
  assert.deepEqual(r.chosen, best.args);
  assert.equal(r.trials[r.chosenIndex], best);
  // The weakest setting barely moves: it keeps the target's utility and its membership signal.
  assert.ok(r.trials[0].utility > 0.9 && r.trials[0].metrics.miaAuc > 0.8);
});

test('successive halving trains the survivors of each rung eta times longer', async () => {
  const w = await tinyWorld();
  const r = await searchMethod({
    ...w,
    method: 'ga',
    args: { batchSize: 4 },
    spec: SearchSpecSchema.parse({
      strategy: 'halving',
      budget: 3,
      eta: 3,
      minSteps: 2,
      space: { lr: { min: 1e-4, max: 1e-2, log: true } },
      validation: 0.25,
    }),
    seed: 0,
  });
  assert.deepEqual(
    r.trials.map((t) => [t.rung, t.args.steps]),
    [
      [0, 2],
      [0, 2],
      [0, 2],
      [1, 6],
    ],
  );
  assert.equal(r.chosenIndex, 3);
});

test('a study entry with a search is one run per seed, graded on the setting its search chose', async () => {
  const entry = { method: 'grad-diff', args: { epochs: 2, batchSize: 4 } };
  const search = { space: { lr: [1e-3, 3e-2] }, validation: 0.25 };
  const runs = planRuns(StudySchema.parse({ name: 's', methods: [{ ...entry, search }, entry] }));
  assert.equal(runs.length, 2);
  assert.notEqual(runs[0].id, runs[1].id, 'the search is part of the run identity');
  assert.match(runs[0].label, /grid search/);
  const dir = mkdtempSync(join(tmpdir(), 'lethe-search-'));
  try {
    const w = await tinyWorld();
    await savePretrained(join(dir, 'target'), w.model, w.tokenizer);
    const o = {
      ...entry,
      spec: SearchSpecSchema.parse(search),
      runDir: join(dir, 'run'),
      targetDir: join(dir, 'target'),
      task: w.task,
      seed: 0,
      log: () => {},
    };
    const chosen = await searchedArgs(o);
    const saved = JSON.parse(readFileSync(join(dir, 'run', 'search.json'), 'utf8'));
    assert.deepEqual(saved.chosen, chosen);
    assert.equal(saved.trials.length, 2);
    rmSync(join(dir, 'target'), { recursive: true });
    assert.deepEqual(await searchedArgs(o), chosen, 'a finished search is reused, not redone');
    assert.ok(!existsSync(join(dir, 'target')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an oracle grade is recorded for the report but never changes the choice', async () => {
  const spec = SearchSpecSchema.parse({
    space: { lr: [1e-4, 3e-3, 3e-2] },
    validation: 0.25,
    utilityFloor: 0.01,
  });
  const base = { method: 'grad-diff', args: { epochs: 1, batchSize: 4 }, spec, seed: 0 };
  const plain = await searchMethod({ ...(await tinyWorld()), ...base });
  // A grader that prefers exactly what the rule did not choose.
  let k = 0;
  const graded = await searchMethod({
    ...(await tinyWorld()),
    ...base,
    grade: async () => (k++ === plain.chosenIndex ? 0 : 1 + k),
  });
  assert.deepEqual(graded.chosen, plain.chosen);
  assert.equal(graded.chosenIndex, plain.chosenIndex);
  assert.ok(graded.trials.every((t) => typeof t.oracleGrade === 'number'));
  const oc = graded.oracleChoice!;
  assert.notEqual(oc.index, graded.chosenIndex);
  assert.ok(oc.gap !== null && oc.gap > 0, 'the report shows what the oracle would have gained');
});

test('kept trials are complete unlearning outputs, the same bytes `lethe unlearn` writes for the setting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-trials-'));
  try {
    const w = await tinyWorld();
    const target = join(dir, 'target');
    await savePretrained(target, w.model, w.tokenizer);
    const spec = SearchSpecSchema.parse({ space: { lr: [1e-3, 3e-2] }, validation: 0.25 });
    const args = { epochs: 3, batchSize: 4 };
    const trials = join(dir, 'trials');
    const r = await searchMethod({
      model: w.model,
      tokenizer: w.tokenizer,
      task: w.task,
      method: 'grad-diff',
      args,
      spec,
      seed: 3,
      keep: { dir: trials, source: target, taskSpec: 'tiny', extra: (a) => ({ runKey: `key ${a.lr}` }) },
    });
    const seen = validationSplit(w.task, spec.validation, spec.seed).task;
    for (const [i, t] of r.trials.entries()) {
      const kept = readManifest(trialDir(trials, i));
      assert.ok(kept, `trial ${i} has its manifest`);
      assert.equal(kept.task.hash, taskHash(seen), 'trained on the task without the validation subjects');
      assert.deepEqual(kept.extra, { runKey: `key ${t.args.lr}` });
      assert.ok(existsSync(join(trialDir(trials, i), 'unlearn-log.jsonl')), 'with its step log');
    }
    // The chosen trial is what unlearning that setting from the target writes.
    const again = join(dir, 'again');
    await runUnlearnJob({
      task: seen,
      taskSpec: 'tiny',
      method: 'grad-diff',
      args: r.chosen,
      seed: 3,
      model: target,
      out: again,
    });
    const weights = (d: string) => readFileSync(join(d, 'model.safetensors'));
    assert.ok(weights(trialDir(trials, r.chosenIndex)).equals(weights(again)));
    assert.ok(!weights(trialDir(trials, 0)).equals(weights(trialDir(trials, 1))), 'the settings differ');
    // Adoption moves the chosen trial only when its key matches, and clears the others.
    const model = join(dir, 'run-model');
    assert.equal(await adoptTrial(trials, r.chosenIndex, model, 'another key'), null);
    assert.ok(!existsSync(model));
    const chosenWeights = weights(trialDir(trials, r.chosenIndex));
    const adopted = await adoptTrial(trials, r.chosenIndex, model, `key ${r.chosen.lr}`);
    assert.deepEqual(adopted, readManifest(model));
    assert.ok(weights(model).equals(chosenWeights));
    assert.ok(!existsSync(trials), 'the other trials are gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
