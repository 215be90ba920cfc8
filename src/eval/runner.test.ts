/**
 * The evaluation runner on the tiny world (a 2-layer GPT-2 that memorised a 16-person QA task, an
 * oracle trained without the forget people, and a quick gradient-ascent unlearning of the target):
 * every suite runs with each metric computed or skipped with a reason, shared work is computed once,
 * results are byte-identical across runs, the "needs the oracle" message, the results file round
 * trip and its errors, input transforms, and the robustness hook. Values are compared exactly unless
 * a tolerance is stated.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { evalWorld } from '../../test/helpers/eval-world.ts';
import { ConfigError } from '../errors.ts';
import { cloneModel } from '../models/registry.ts';
import { transformFromJson } from '../unlearn/prompted.ts';
import { unlearn } from '../unlearn/runner.ts';
import { getMetric, metricNames, registerRobustnessCheck } from './metrics/index.ts';
import { ModelEval } from './model-eval.ts';
import { defaultEvalOptions } from './options.ts';
import { type EvalResults, readResults, writeResults } from './results.ts';
import { runMetric } from './run-metric.ts';
import { evaluate } from './runner.ts';
import { SUITE_NAMES, suiteMetrics } from './suites.ts';
import { NO_ORACLE } from './types.ts';

async function world() {
  const w = await evalWorld();
  const unlearned = cloneModel(w.target);
  await unlearn({
    model: unlearned,
    tokenizer: w.tokenizer,
    task: w.task,
    method: 'ga',
    args: { epochs: 3, lr: 2e-3, batchSize: 4 },
    progress: false,
  });
  return { ...w, unlearned };
}

const value = (r: EvalResults, name: string, role: 'unlearned' | 'oracle' | 'target' = 'unlearned') => {
  const x = r.metrics[name][role];
  assert.ok(x && 'value' in x, `${name} (${role}) has a value: ${JSON.stringify(x)}`);
  return x.value as number;
};

const withoutTimings = (r: EvalResults) => JSON.stringify({ ...r, timings: null });

describe('suites on the tiny world', () => {
  test('suite "all": every metric computed or skipped with a reason, none failed; sensible values', async () => {
    const w = await world();
    const t0 = performance.now();
    const r = await evaluate({
      task: w.task,
      suite: 'all',
      model: { model: w.unlearned, tokenizer: w.tokenizer },
      oracle: { model: w.oracle, tokenizer: w.tokenizer },
      target: { model: w.target, tokenizer: w.tokenizer },
    });
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s`);
    // The derived closeness metric joins every evaluation with an oracle and a target.
    assert.deepEqual(r.metricNames, [...suiteMetrics('all'), 'closeness.gapLeft']);
    for (const [name, e] of Object.entries(r.metrics)) {
      for (const role of ['unlearned', 'oracle', 'target'] as const) {
        const x = e[role]!;
        assert.ok(!('failed' in x), `${name} (${role}) failed: ${JSON.stringify(x)}`);
        if ('skipped' in x) assert.ok(x.skipped.length > 10, `${name} gives a reason`);
      }
    }
    // What the tiny task lacks is skipped, saying what is missing.
    assert.deepEqual(r.metrics['tofu.realAuthors.prob'].unlearned, { skipped: 'no eval set qa.realAuthors' });
    assert.match(JSON.stringify(r.metrics['efficiency.seconds'].unlearned), /manifest/);
    // The memorising target: forget answers certain and greedily reproduced; the oracle: not.
    assert.ok(value(r, 'tofu.forget.prob', 'target') > 0.9);
    assert.equal(value(r, 'mem.em.forget', 'target'), 1);
    assert.equal(value(r, 'mem.es.forget', 'target'), 1);
    assert.ok(value(r, 'tofu.forget.prob', 'oracle') < 0.2);
    assert.ok(value(r, 'tofu.forget.prob') < value(r, 'tofu.forget.prob', 'target'), 'unlearning lowered it');
    // Oracle-relative metrics of the oracle itself are exact: KS of a sample with itself, equal AUCs.
    assert.equal(value(r, 'tofu.forgetQuality', 'oracle'), 1);
    assert.equal(value(r, 'muse.privleak', 'oracle'), 0);
    assert.equal(value(r, 'mia.reference', 'oracle'), 0.5);
    assert.equal(value(r, 'mia.loss', 'target'), 1);
    assert.ok(value(r, 'muse.privleak', 'target') < -50, 'the target is under-unlearned: negative PrivLeak');
    // Model utility: 6 of 9 components (no real authors), recorded explicitly.
    const mu = r.metrics['tofu.modelUtility'].unlearned;
    assert.ok('extra' in mu && mu.extra);
    assert.equal(mu.extra.used, 6);
    assert.match(JSON.stringify(mu.extra.missing), /realAuthors .*no eval set qa.realAuthors/);
    // Closeness: computed over the metrics with a target–oracle gap.
    assert.ok(!('skipped' in r.closeness));
    assert.ok(r.closeness.included > 10 && r.closeness.mean !== null && r.closeness.mean > 0);
    assert.equal(r.closeness.metrics['tofu.forget.prob'].included, true);
    assert.equal(r.closeness.considered, Object.keys(r.closeness.metrics).length);
    assert.equal(
      value(r, 'closeness.gapLeft'),
      r.closeness.mean,
      'results.closeness is the registered metric, computed once',
    );
    // Derived relearn recovery: n/a for the target, a share in [0, 1] (or n/a with the reason) else.
    const rr = r.metrics['robustness.relearnRecovery'];
    assert.match(JSON.stringify(rr.target), /n\/a: the target is the reference/);
    const u = rr.unlearned;
    if ('value' in u) assert.ok(u.value !== null && u.value >= 0 && u.value <= 1 && u.ci);
    else assert.ok('skipped' in u && /^n\/a: the run did not move/.test(u.skipped), JSON.stringify(u));
    // Headline AUCs and means carry their bootstrap interval around the value.
    for (const name of ['mia.loss', 'tofu.forget.prob']) {
      const x = r.metrics[name].oracle!;
      assert.ok('value' in x && x.ci && x.value !== null, name);
      assert.ok(x.ci.lo! <= x.value && x.value <= x.ci.hi!, `${name}: ${JSON.stringify(x.ci)}`);
      assert.equal(x.ci.level, 0.95);
    }
    assert.ok(
      r.metricNames.includes('robustness.relearn'),
      'the robustness checks are part of the all suite',
    );
    // ROC points for plotting run from (0, 0) to (1, 1).
    const loss = r.metrics['mia.loss'].unlearned;
    assert.ok('extra' in loss && loss.extra);
    const roc = (loss.extra.roc as { forgetVsHoldout: { fpr: number[]; tpr: number[] } }).forgetVsHoldout;
    assert.equal(roc.fpr.length, roc.tpr.length);
    assert.deepEqual([roc.fpr[0], roc.tpr[0], roc.fpr.at(-1), roc.tpr.at(-1)], [0, 0, 1, 1]);
    assert.equal(typeof loss.extra.aucRetainVsHoldout, 'number');
    // Per-item values line up with their ids.
    const tr = r.metrics['tofu.forget.truthRatio'].unlearned;
    assert.ok('perItem' in tr && tr.perItem);
    assert.deepEqual(
      tr.perItem.forget.ids,
      w.task.splits.forget.qa.map((q) => q.id),
    );
  });

  test('every named suite resolves to registered metrics', () => {
    for (const s of SUITE_NAMES) for (const n of suiteMetrics(s)) assert.ok(getMetric(n));
    assert.throws(() => suiteMetrics('nope'), ConfigError);
    assert.ok(metricNames().length > 40);
  });

  test('without an oracle, oracle metrics say so instead of printing a number', async () => {
    const w = await world();
    const r = await evaluate({
      task: w.task,
      suite: 'tofu',
      metrics: ['mia.reference', 'muse.privleak'],
      model: { model: w.unlearned, tokenizer: w.tokenizer },
    });
    for (const n of ['tofu.forgetQuality', 'mia.reference', 'muse.privleak']) {
      assert.deepEqual(r.metrics[n].unlearned, { skipped: NO_ORACLE });
    }
    assert.match(NO_ORACLE, /needs the oracle model/);
    assert.equal(r.metrics['tofu.forgetQuality'].oracle, undefined);
    assert.ok('skipped' in r.closeness && /oracle, target/.test(r.closeness.skipped));
    assert.match(r.notes[0], /no oracle/);
    assert.ok(value(r, 'tofu.forget.prob') > 0);
  });

  test('results are byte-identical across runs (timings apart)', async () => {
    const w = await world();
    const run = () =>
      evaluate({
        task: w.task,
        suite: 'extraction',
        metrics: ['tofu.forget.rouge', 'mia.gradNorm', 'mia.minKpp'],
        model: { model: w.unlearned, tokenizer: w.tokenizer },
        oracle: { model: w.oracle, tokenizer: w.tokenizer },
        options: { seed: 3, elPositions: 2, elN: 3 },
      });
    const a = await run();
    const b = await run();
    assert.equal(withoutTimings(a), withoutTimings(b));
    assert.equal(a.options.seed, 3);
    assert.equal('progress' in a.options, false, 'display settings are not results');
  });
});

describe('shared work', () => {
  test('truth ratio, forget quality and probability share scored sequences; LOSS reuses them too', async () => {
    const w = await world();
    const options = defaultEvalOptions();
    const me = new ModelEval({ label: 'm', model: w.unlearned, tokenizer: w.tokenizer, options });
    const oracle = new ModelEval({ label: 'o', model: w.oracle, tokenizer: w.tokenizer, options });
    const ctx = {
      task: w.task,
      role: 'unlearned' as const,
      model: me,
      oracle,
      options,
      log: () => {},
      metric: getMetric,
    };
    await runMetric(getMetric('tofu.forget.truthRatio'), ctx);
    const afterTr = me.forwardTokens;
    assert.ok(afterTr > 0);
    const fq = await runMetric(getMetric('tofu.forgetQuality'), ctx);
    assert.ok('value' in fq.result);
    assert.equal(me.forwardTokens, afterTr, 'forget quality re-scored nothing on the model');
    await runMetric(getMetric('tofu.forget.prob'), ctx);
    const afterProb = me.forwardTokens;
    await runMetric(getMetric('mia.loss'), ctx);
    await runMetric(getMetric('mem.em.forget'), ctx);
    const forgetLossTokens = me.forwardTokens - afterProb;
    // mia.loss scores holdout and retain anew; the forget answers were already scored by tofu.forget.prob.
    const expectNew = me
      .qaRequests(
        [...w.task.splits.holdout.qa, ...w.task.splits.retain.qa].map((q) => ({
          prompt: `Question: ${q.question}\nAnswer:`,
          answer: q.answer,
        })),
      )
      .reduce((s, r) => s + r.ids.length - 1, 0);
    assert.equal(forgetLossTokens, expectNew);
    // Generation is cached by prompt and length too.
    await runMetric(getMetric('tofu.forget.rouge'), ctx);
    const gen = me.generatedTokens;
    await runMetric(getMetric('tofu.forget.rouge'), ctx);
    assert.equal(me.generatedTokens, gen);
  });
});

describe('results file', () => {
  test('round trip through writeResults/readResults; errors name the file and the key', async () => {
    const w = await world();
    const r = await evaluate({
      task: w.task,
      metrics: ['tofu.forget.prob', 'tofu.forgetQuality', 'mia.loss'],
      model: { model: w.unlearned, tokenizer: w.tokenizer },
      target: { model: w.target, tokenizer: w.tokenizer },
    });
    const dir = mkdtempSync(join(tmpdir(), 'lethe-eval-results-'));
    const path = join(dir, 'results.json');
    await writeResults(path, r);
    assert.deepEqual(readResults(path), r);
    const raw = JSON.parse(readFileSync(path, 'utf8'));
    raw.metrics['mia.loss'].unlearned.value = 'high';
    writeFileSync(path, JSON.stringify(raw));
    assert.throws(
      () => readResults(path),
      (e: Error) => e instanceof ConfigError && e.message.includes(`${path}: metrics.mia.loss.unlearned`),
    );
    writeFileSync(path, '{"format": "something-else"}');
    assert.throws(() => readResults(path), /not a lethe evaluation results file/);
    writeFileSync(path, '{');
    assert.throws(() => readResults(path), /not valid JSON/);
    assert.throws(() => readResults(join(dir, 'missing.json')), /cannot read/);
  });
});

describe('one scoring pass per model', () => {
  test('Min-K%++ reuses the sequences the other metrics scored (no second pass for its statistics)', async () => {
    const w = await world();
    const run = (metrics: string[]) =>
      evaluate({ task: w.task, metrics, model: { model: w.target, tokenizer: w.tokenizer } });
    const loss = await run(['mia.loss']);
    const both = await run(['mia.loss', 'mia.minKpp']);
    assert.equal(
      both.models.unlearned.cost.forwardTokens,
      loss.models.unlearned.cost.forwardTokens,
      'the same sequences, scored once',
    );
    assert.deepEqual(
      both.metrics['mia.loss'],
      loss.metrics['mia.loss'],
      'same numbers with the statistics on',
    );
  });
});

describe('input transforms', () => {
  test('a guardrail transform is applied to prompts and its filter to every generation', async () => {
    const w = await world();
    const guard = transformFromJson({
      kind: 'guardrail',
      version: 1,
      prefix: 'Do not reveal where anyone lives.\n\n',
      scope: ['towns'],
      scopeSource: 'explicit',
      blockPatterns: ['Oslo', 'Lima', 'Perth', 'Quito'],
      refusal: "I don't know.",
    });
    const plain = await evaluate({
      task: w.task,
      metrics: ['pii.zeroShot.forget', 'tofu.forget.rouge', 'tofu.forget.prob'],
      model: { model: w.target, tokenizer: w.tokenizer },
    });
    const guarded = await evaluate({
      task: w.task,
      metrics: ['pii.zeroShot.forget', 'tofu.forget.rouge', 'tofu.forget.prob'],
      model: { model: w.target, tokenizer: w.tokenizer, transform: guard },
    });
    assert.equal(value(plain, 'pii.zeroShot.forget'), 1);
    assert.equal(value(guarded, 'pii.zeroShot.forget'), 0, 'every leak was filtered');
    const rouge = guarded.metrics['tofu.forget.rouge'].unlearned;
    assert.ok('extra' in rouge && rouge.extra && (rouge.extra.blockedByFilter as number) > 0);
    assert.ok(value(guarded, 'tofu.forget.rouge') < value(plain, 'tofu.forget.rouge'));
    assert.notEqual(
      value(guarded, 'tofu.forget.prob'),
      value(plain, 'tofu.forget.prob'),
      'the prefix changes scores',
    );
    assert.equal(guarded.models.unlearned.transform, 'guardrail');
  });
});

describe('robustness hook', () => {
  test('a registered check joins the robustness suite and can re-run metrics on another model', async () => {
    const w = await world();
    registerRobustnessCheck({
      name: 'copy-probe',
      label: 'Copy probe',
      direction: 'closer-to-oracle',
      format: 3,
      summary: 'tofu.forget.prob of an identical copy (hook test)',
      async run(ctx) {
        const out = await ctx.evaluate(cloneModel(ctx.model.model), 'copy', ['tofu.forget.prob']);
        const r = out['tofu.forget.prob'];
        return { value: 'value' in r ? r.value : null };
      },
    });
    assert.ok(suiteMetrics('robustness').includes('robustness.copy-probe'));
    assert.ok(suiteMetrics('robustness').includes('robustness.relearn'));
    assert.ok(suiteMetrics('all').includes('robustness.copy-probe'));
    const r = await evaluate({
      task: w.task,
      suite: 'robustness',
      metrics: ['tofu.forget.prob'],
      model: { model: w.unlearned, tokenizer: w.tokenizer },
    });
    assert.equal(value(r, 'robustness.copy-probe'), value(r, 'tofu.forget.prob'));
    assert.ok(!r.notes.some((n) => /robustness/.test(n)));
  });
});
