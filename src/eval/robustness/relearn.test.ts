/**
 * Relearning attack on the tiny memorised task: GA unlearning raises the forget answers' NLL; a
 * few fine-tuning steps on half of the forget items bring the other half's NLL back down. Also the
 * attacker/held-out split, determinism, and that the attacked model is a copy.
 *
 * Tolerances: measured on this fixture, 10 steps at lr 2e-3 recover 0.42–0.79 of the
 * target→unlearned gap on the held-back items across split seeds 0–2; the test asks for ≥ 0.2 on
 * each seed, and for the held-back NLL to fall by more than 0.1 nats.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tinyTask, tinyWorld } from '../../../test/helpers/unlearn-world.ts';
import type { QaItem } from '../../data/items.ts';
import type { Task } from '../../data/task.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { cloneModel } from '../../models/registry.ts';
import { qaExample, splitExamples } from '../../text/format.ts';
import { scoreSequences } from '../../text/score.ts';
import type { Tokenizer } from '../../text/tokenizer/tokenizer.ts';
import { unlearn } from '../../unlearn/runner.ts';
import { recoveryRate } from './recovery.ts';
import { relearn, relearnSplit } from './relearn.ts';

/** Mean per-token answer NLL of QA items. */
function answerNll(model: CausalLM, tok: Tokenizer, items: readonly QaItem[]): number {
  const scores = scoreSequences(
    model,
    items.map((q) => qaExample(tok, q.question, q.answer)),
  );
  return scores.reduce((s, r) => s + r.nll / r.tokens, 0) / scores.length;
}

const weightsOf = (m: CausalLM) => m.parameters().map((p) => p.f32.slice());

function assertSameWeights(m: CausalLM, w: Float32Array[], what: string): void {
  m.parameters().forEach((p, i) => {
    const a = Buffer.from(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength);
    assert.ok(
      a.equals(Buffer.from(w[i].buffer, w[i].byteOffset, w[i].byteLength)),
      `${what}: parameter ${i}`,
    );
  });
}

test('relearnSplit: disjoint, covers the forget split, seeded, both sides non-empty', () => {
  const task = tinyTask();
  const ids = task.splits.forget.qa.map((q) => q.id);
  const seen = new Set<string>();
  for (let seed = 0; seed < 6; seed++) {
    const s = relearnSplit(task, 0.5, seed);
    assert.equal(s.attack.qa.length, 2);
    const all = [...s.attack.qa, ...s.heldOut.qa].map((q) => q.id);
    assert.deepEqual([...all].sort(), [...ids].sort());
    // Both sides keep the split's order.
    for (const side of [s.attack.qa, s.heldOut.qa])
      assert.deepEqual(
        side.map((q) => q.id),
        ids.filter((id) => side.some((q) => q.id === id)),
      );
    assert.deepEqual(relearnSplit(task, 0.5, seed), s);
    seen.add(s.attack.qa.map((q) => q.id).join(','));
  }
  assert.ok(seen.size > 1, 'different seeds should give different splits');
  // k = round(f·n) kept within [1, n − 1].
  assert.equal(relearnSplit(task, 0.01).attack.qa.length, 1);
  assert.equal(relearnSplit(task, 0.99).attack.qa.length, 3);
  for (const f of [0, 1, -0.5, Number.NaN]) assert.throws(() => relearnSplit(task, f), /fraction/);
  const one: Task = {
    ...task,
    splits: { ...task.splits, forget: { ...task.splits.forget, qa: task.splits.forget.qa.slice(0, 1) } },
  };
  assert.throws(() => relearnSplit(one, 0.5), /too small/);
});

test('relearning on half the forget set brings the held-back half back (GA-unlearned tiny model)', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  const target = cloneModel(model);
  await unlearn({ model, tokenizer, task, method: 'ga', args: { epochs: 3, lr: 2e-3 }, progress: false });
  const unlearnedWeights = weightsOf(model);
  for (let seed = 0; seed < 3; seed++) {
    const { attack, heldOut } = relearnSplit(task, 0.5, seed);
    const mTarget = answerNll(target, tokenizer, heldOut.qa);
    const mUnlearned = answerNll(model, tokenizer, heldOut.qa);
    assert.ok(mUnlearned > mTarget + 0.2, `unlearning should raise the NLL: ${mTarget} → ${mUnlearned}`);
    const attacked = await relearn(model, splitExamples(tokenizer, attack, 64), {
      steps: 10,
      lr: 2e-3,
      batchSize: 2,
      seed: 0,
    });
    const mAfter = answerNll(attacked, tokenizer, heldOut.qa);
    const rate = recoveryRate(mUnlearned, mAfter, mTarget);
    assert.ok(mAfter < mUnlearned - 0.1, `seed ${seed}: held-back NLL ${mUnlearned} → ${mAfter}`);
    assert.ok(rate >= 0.2, `seed ${seed}: recovery ${rate}`);
    assertSameWeights(model, unlearnedWeights, `relearn (seed ${seed}) changed the input model`);
  }
});

test('relearn is deterministic given its seed and trains a copy', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  const before = weightsOf(model);
  const examples = splitExamples(tokenizer, relearnSplit(task, 0.5).attack, 64);
  const opts = { steps: 3, lr: 1e-3, batchSize: 1, seed: 7 };
  const a = await relearn(model, examples, opts);
  const b = await relearn(model, examples, opts);
  assertSameWeights(b, weightsOf(a), 'same seed');
  assertSameWeights(model, before, 'input model');
  assert.notDeepEqual(weightsOf(a), before, 'the attack should change the copy');
  const logs: number[] = [];
  await relearn(model, examples, { ...opts, onStep: (l) => void logs.push(l.step) });
  assert.deepEqual(logs, [1, 2, 3]);
  await assert.rejects(relearn(model, examples, { ...opts, steps: 0 }), /steps/);
  await assert.rejects(relearn(model, [], opts), /examples/);
});
