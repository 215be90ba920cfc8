/**
 * The robustness checks as evaluation metrics (`robustness.<name>`, suites `robustness` and
 * `all`). Each measures the mean answer NLL of forget QA after an attack on the model being
 * evaluated — lower means the attack brought the forgotten answers back. The unattacked value is
 * in `extra.before`, so a study can turn these into recovery rates against the target.
 *   relearn      fine-tune on half the forget set (k steps), measure the other, held-back half
 *   int8, int4   per-channel weight fake-quantisation
 *   paraphrase   the forget questions reworded
 *   adversarial  the forget questions inside role-play / jailbreak templates (mean over templates)
 * This file only defines them (robustnessChecks); src/eval/metrics/catalog.ts registers them.
 */

import type { QaItem } from '../../data/items.ts';
import { qaAnswer, qaExample, qaPrompt } from '../../text/format.ts';
import { jsonNumber, meanOutput, series } from '../metrics/shared.ts';
import { ModelEval } from '../model-eval.ts';
import type { RobustnessCheck } from '../robustness-hook.ts';
import { finiteMean } from '../truth-ratio.ts';
import { skip } from '../types.ts';
import { adversarialQueries, attackText } from './prompts.ts';
import { fakeQuantize } from './quantize.ts';
import { relearn, relearnSplit } from './relearn.ts';

/** Per-item mean forget-answer NLL (NaN for an item with no scored token). */
const itemNlls = (m: ModelEval, items: readonly QaItem[]): number[] =>
  m
    .score(m.qaRequests(items.map((q) => ({ prompt: qaPrompt(q.question), answer: qaAnswer(q.answer) }))))
    .map((s) =>
      s.logProbs.length === 0 ? Number.NaN : -s.logProbs.reduce((a, b) => a + b, 0) / s.logProbs.length,
    );

const meanNll = (m: ModelEval, items: readonly QaItem[]): number => finiteMean(itemNlls(m, items)).mean;

const RELEARN = { fraction: 0.5, steps: 10, lr: 1e-3, batchSize: 4 };

/** The built-in checks, in the order the robustness suite lists them (src/eval/metrics/catalog.ts registers them). */
export const robustnessChecks: RobustnessCheck[] = [];

robustnessChecks.push({
  name: 'relearn',
  label: 'NLL after relearning',
  direction: 'closer-to-oracle',
  format: 3,
  summary: `mean forget-answer NLL on held-back items after ${RELEARN.steps} relearning steps on the other ${RELEARN.fraction * 100}%`,
  requires: ['split.forget.qa'],
  async run(ctx) {
    const { attack, heldOut } = relearnSplit(ctx.task, RELEARN.fraction, ctx.options.seed);
    const m = ctx.model;
    const examples = attack.qa.map((q) => qaExample(m.tokenizer, q.question, q.answer));
    const attacked = await relearn(m.model, examples, {
      steps: RELEARN.steps,
      lr: RELEARN.lr,
      batchSize: RELEARN.batchSize,
      seed: ctx.options.seed,
    });
    const beforeItems = itemNlls(m, heldOut.qa);
    const other = new ModelEval({
      label: `${m.label}/relearned`,
      model: attacked,
      tokenizer: m.tokenizer,
      transform: m.transform,
      dir: null,
      options: ctx.options,
    });
    const ids = heldOut.qa.map((q) => q.id);
    const after = meanOutput('heldOut', ids, itemNlls(other, heldOut.qa));
    return {
      ...after,
      // `before` per item: relearn recovery pairs it with the target's on the same items.
      perItem: { ...after.perItem, before: series(ids, beforeItems) },
      extra: {
        ...after.extra,
        before: jsonNumber(finiteMean(beforeItems).mean),
        attackItems: attack.qa.length,
        heldOutItems: heldOut.qa.length,
        ...RELEARN,
      },
    };
  },
});

for (const bits of [8, 4] as const) {
  robustnessChecks.push({
    name: `int${bits}`,
    label: `NLL after int${bits}`,
    direction: 'closer-to-oracle',
    format: 3,
    summary: `mean forget-answer NLL after int${bits} per-channel weight fake-quantisation`,
    requires: ['split.forget.qa'],
    async run(ctx) {
      const m = ctx.model;
      const q = new ModelEval({
        label: `${m.label}/int${bits}`,
        model: fakeQuantize(m.model, { bits }),
        tokenizer: m.tokenizer,
        transform: m.transform,
        dir: null,
        options: ctx.options,
      });
      return {
        value: meanNll(q, ctx.task.splits.forget.qa),
        extra: { before: meanNll(m, ctx.task.splits.forget.qa) },
      };
    },
  });
}

robustnessChecks.push({
  name: 'paraphrase',
  label: 'NLL on paraphrases',
  direction: 'closer-to-oracle',
  format: 3,
  summary: 'mean forget-answer NLL when the forget questions are paraphrased',
  requires: ['split.forget.qa'],
  async run(ctx) {
    const items = ctx.task.splits.forget.qa;
    const reworded = items
      .filter((q) => q.paraphrasedQuestion)
      .map((q) => ({ ...q, question: q.paraphrasedQuestion! }));
    if (reworded.length === 0) skip('no forget item has a paraphrased question');
    return {
      value: meanNll(ctx.model, reworded),
      extra: { before: meanNll(ctx.model, items), items: reworded.length },
    };
  },
});

robustnessChecks.push({
  name: 'adversarial',
  label: 'NLL under attack prompts',
  direction: 'closer-to-oracle',
  format: 3,
  summary: 'mean forget-answer NLL under role-play / jailbreak prompt templates',
  requires: ['split.forget.qa'],
  async run(ctx) {
    const m = ctx.model;
    const prompts = adversarialQueries(ctx.task.splits.forget.qa);
    // Through the model's own request builder, so an input transform (icul, guardrail) sees the
    // attack prompts as it sees every other prompt; too-long ones are fitted and counted.
    const requests = m.qaRequests(prompts.map((p) => ({ prompt: attackText(p), answer: p.answer })));
    const scored = m.score(requests);
    const per = scored.map((s) => -s.logProbs.reduce((a, b) => a + b, 0) / Math.max(1, s.logProbs.length));
    return {
      value: per.reduce((a, b) => a + b, 0) / Math.max(1, per.length),
      extra: { before: meanNll(m, ctx.task.splits.forget.qa), prompts: prompts.length },
    };
  },
});
