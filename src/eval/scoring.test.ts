/**
 * Evaluation scoring against its references on the tiny memorised model: log-probs equal
 * src/text/score.ts's (same op; tolerance 0), vocabulary moments equal its Min-K%++ statistics
 * (1e-6), results do not depend on the batch (tolerance 0), argmax hits agree with greedy
 * generation, and the gradient norm equals the norm of valueAndGrad's gradients (relative 1e-5)
 * without touching parameter .grad fields. ModelEval fits over-long requests into the context.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tinyWorld } from '../../test/helpers/unlearn-world.ts';
import { crossEntropy, IGNORE_INDEX, Tensor, valueAndGrad } from '../tensor/index.ts';
import { qaExample } from '../text/format.ts';
import { generate } from '../text/generate.ts';
import { scoreSequences } from '../text/score.ts';
import { ModelEval } from './model-eval.ts';
import { defaultEvalOptions } from './options.ts';
import { gradNorm, scoreForEval } from './scoring.ts';

describe('scoreForEval', () => {
  test('matches scoreSequences, is batch-independent, and its argmax agrees with greedy decoding', async () => {
    const { task, tokenizer, model } = await tinyWorld();
    const reqs = [...task.splits.forget.qa, ...task.splits.holdout.qa].map((q) =>
      qaExample(tokenizer, q.question, q.answer),
    );
    const ref = scoreSequences(model, reqs, { distributionStats: true, batchSize: 3 });
    const mine = scoreForEval(model, reqs, { batchSize: 8, distributionStats: true });
    const single = scoreForEval(model, reqs, { batchSize: 1, distributionStats: false });
    mine.forEach((s, i) => {
      assert.deepEqual(s.logProbs, ref[i].logProbs);
      assert.deepEqual(single[i].logProbs, s.logProbs);
      assert.deepEqual(single[i].argmaxHit, s.argmaxHit);
      for (let j = 0; j < s.logProbs.length; j++) {
        assert.ok(Math.abs(s.meanLogProb![j] - ref[i].meanLogProb![j]) < 1e-6);
        assert.ok(Math.abs(s.stdLogProb![j] - ref[i].stdLogProb![j]) < 1e-6);
      }
    });
    // The memorised forget answers: every teacher-forced argmax is right, so greedy decoding
    // from the prompt reproduces the answer and EOS.
    const q = task.splits.forget.qa[0];
    assert.ok(mine[0].argmaxHit.every((h) => h === 1));
    const prompt = reqs[0].ids.slice(0, reqs[0].start);
    const g = generate(model, [prompt], { maxNewTokens: 20, eosTokenIds: [tokenizer.eosId!] });
    assert.deepEqual(g.tokens[0], reqs[0].ids.slice(reqs[0].start));
    assert.ok(q.answer.length > 0);
  });

  test('gradNorm is ‖∇ mean NLL‖ over all parameters and leaves .grad alone', async () => {
    const { task, tokenizer, model } = await tinyWorld();
    const ex = qaExample(tokenizer, task.splits.holdout.qa[0].question, task.splits.holdout.qa[0].answer);
    const params = model.parameters();
    const marker = new Tensor(new Float32Array(params[0].size).fill(7), params[0].shape);
    params[0].grad = marker;
    const n = gradNorm(model, ex);
    assert.equal(params[0].grad, marker);
    const T = ex.ids.length - 1;
    const targets = Int32Array.from({ length: T }, (_, t) =>
      t + 1 >= ex.start ? ex.ids[t + 1] : IGNORE_INDEX,
    );
    const { grads } = valueAndGrad(
      () =>
        crossEntropy(
          model.forward(new Tensor(Int32Array.from(ex.ids.slice(0, T)), [1, T])).logits!,
          new Tensor(targets, [1, T]),
        ),
      params,
    );
    const ref = Math.sqrt(grads.reduce((s, g) => s + g.f32.reduce((a, x) => a + x * x, 0), 0));
    assert.ok(n > 0 && Math.abs(n - ref) / ref < 1e-5, `${n} vs ${ref}`);
    assert.ok(Number.isNaN(gradNorm(model, { ids: [1], start: 1 })));
  });
});

describe('ModelEval', () => {
  test('requests longer than the context drop prompt tokens first and are counted', async () => {
    const { tokenizer, model } = await tinyWorld();
    const me = new ModelEval({ label: 't', model, tokenizer, options: defaultEvalOptions() });
    const long = 'Where does Ada live? '.repeat(20);
    const [r] = me.qaRequests([{ prompt: `Question: ${long}\nAnswer:`, answer: 'Ada lives in Oslo.' }]);
    const full = qaExample(tokenizer, long, 'Ada lives in Oslo.');
    assert.equal(r.ids.length, model.maxPositions);
    assert.deepEqual(r.ids.slice(r.start), full.ids.slice(full.start), 'the answer is kept whole');
    assert.equal(me.score([r])[0].logProbs.length, full.ids.length - full.start);
    assert.deepEqual(Object.values(me.warnings()), [1]);
    // A prompt that fills the context is cut from the left and still answered.
    const [g] = me.generateText([`Question: ${long}\nAnswer:`], 8);
    assert.ok(g.tokens > 0);
  });
});
