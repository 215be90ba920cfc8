/**
 * An honest benchmark: forget and holdout people are built alike, so a model trained on retain
 * alone (the oracle) cannot tell them apart. Over 3 seeds of the tiny preset, a small oracle's
 * forget-vs-holdout LOSS AUC (per-answer mean NLL) lies within 0.5 ± 2 standard errors. The
 * standard error respects that one person's answers are not independent: it is the spread of the
 * AUC over every reassignment of the forget/holdout labels to people (the exact null distribution
 * when people are exchangeable), combined over seeds as the SE of their mean. About 30 s.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rocAuc } from '../../eval/stats/auc.ts';
import { buildModel } from '../../models/registry.ts';
import { Rng } from '../../tensor/index.ts';
import { qaExample, splitExamples } from '../../text/format.ts';
import { scoreSequences } from '../../text/score.ts';
import { trainByteLevelBpe } from '../../text/tokenizer/train-bpe.ts';
import { train } from '../../train/trainer.ts';
import { subjectOf } from '../../unlearn/runner.ts';
import { generateSynthetic } from './generate.ts';

/** All k-subsets of 0…n−1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, k)];
}

/** AUC of forget vs holdout losses, and its SD over person-level relabellings. */
function aucWithNullSd(forget: Map<string, number[]>, holdout: Map<string, number[]>) {
  const people = [...forget.values(), ...holdout.values()];
  const auc = (pos: number[][], neg: number[][]) => rocAuc(pos.flat(), neg.flat());
  const observed = auc([...forget.values()], [...holdout.values()]);
  const null_ = subsets(people.length, forget.size).map((chosen) => {
    const set = new Set(chosen);
    return auc(
      people.filter((_, i) => set.has(i)),
      people.filter((_, i) => !set.has(i)),
    );
  });
  const m = null_.reduce((s, x) => s + x, 0) / null_.length;
  const variance = null_.reduce((s, x) => s + (x - m) ** 2, 0) / null_.length;
  return { observed, variance };
}

test('the oracle cannot tell forget from holdout people: LOSS AUC within 0.5 ± 2 SE over 3 seeds', async () => {
  const results: { observed: number; variance: number }[] = [];
  for (const seed of [0, 1, 2]) {
    const task = generateSynthetic({ size: 'tiny', seed });
    const retain = task.splits.retain;
    const texts = [...retain.qa.flatMap((q) => [q.question, q.answer]), ...retain.text.map((t) => t.text)];
    const tok = trainByteLevelBpe(texts, { vocabSize: 512, specialTokens: ['<|endoftext|>'] });
    const oracle = buildModel(
      {
        model_type: 'gpt2',
        vocab_size: tok.vocabSize,
        n_positions: 128,
        n_embd: 64,
        n_layer: 2,
        n_head: 2,
        eos_token_id: tok.tokenToId('<|endoftext|>'),
      },
      new Rng(seed),
    );
    await train(oracle, splitExamples(tok, retain, 128), {
      epochs: 4,
      batchSize: 16,
      lr: 3e-3,
      seed,
      progress: false,
    });
    const losses = (split: 'forget' | 'holdout') => {
      const qa = task.splits[split].qa;
      const scored = scoreSequences(
        oracle,
        qa.map((q) => qaExample(tok, q.question, q.answer)),
      );
      const byPerson = new Map<string, number[]>();
      qa.forEach((q, i) => {
        const key = subjectOf(q.id);
        byPerson.set(key, [...(byPerson.get(key) ?? []), scored[i].nll / scored[i].tokens]);
      });
      return byPerson;
    };
    results.push(aucWithNullSd(losses('forget'), losses('holdout')));
  }
  const mean = results.reduce((s, r) => s + r.observed, 0) / results.length;
  const se = Math.sqrt(results.reduce((s, r) => s + r.variance, 0)) / results.length;
  const aucs = results.map((r) => r.observed.toFixed(3)).join(', ');
  assert.ok(
    Math.abs(mean - 0.5) <= 2 * se,
    `oracle LOSS AUC ${mean.toFixed(3)} (seeds: ${aucs}) outside 0.5 ± ${(2 * se).toFixed(3)}`,
  );
  assert.ok(se < 0.15, `the test has power: SE ${se.toFixed(3)}`);
});
