/**
 * Attacks go through the run's input transform: for an icul (or guardrail) model, the adversarial
 * and paraphrase probes score the prompts the deployed system would see — the transform's prefix
 * before every attacked question — not the bare weights. Checked on the exact token ids scored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalWorld } from '../../../test/helpers/eval-world.ts';
import { transformFromJson } from '../../unlearn/prompted.ts';
import { getMetric } from '../metrics/index.ts';
import { ModelEval } from '../model-eval.ts';
import { defaultEvalOptions } from '../options.ts';
import { runMetric } from '../run-metric.ts';
import { transformWarnings } from '../runner.ts';

test("robustness.adversarial and .paraphrase score the icul run's transformed prompts", async () => {
  const w = await evalWorld();
  const task = structuredClone(w.task);
  for (const q of task.splits.forget.qa) q.paraphrasedQuestion = `Tell me: ${q.question}`;
  const forget = task.splits.forget.qa[0];
  const shot = task.splits.retain.qa[0];
  const icul = transformFromJson({
    kind: 'icul',
    version: 1,
    shots: 2,
    retainShots: 1,
    unmatched: 'forget',
    forget: [{ match: [forget.question], question: forget.question, answer: 'Nowhere in particular.' }],
    retain: [
      { question: shot.question, answer: shot.answer },
      { question: task.splits.retain.qa[1].question, answer: task.splits.retain.qa[1].answer },
    ],
  });
  // Only the prompts matter here: a context long enough for every prefix (the tiny model's is not),
  // and a stub for the forward pass that records what would be scored.
  const scored: string[] = [];
  const me = new ModelEval({
    label: 'icul',
    model: w.target,
    tokenizer: w.tokenizer,
    transform: icul,
    options: defaultEvalOptions(),
  });
  Object.defineProperty(me, 'maxLen', { get: () => 100_000 });
  me.score = (requests) =>
    requests.map((r) => {
      scored.push(me.tokenizer.decode(r.ids.slice(0, r.start), { skipSpecialTokens: true }));
      return { logProbs: new Float32Array(r.ids.length - r.start).fill(-1), argmaxHit: new Uint8Array(0) };
    });
  for (const metric of ['robustness.adversarial', 'robustness.paraphrase']) {
    scored.length = 0;
    const { result } = await runMetric(getMetric(metric), {
      task,
      role: 'unlearned',
      model: me,
      oracle: null,
      options: me.options,
      log() {},
      metric: getMetric,
    });
    assert.ok('value' in result && result.value === 1, `${metric}: ${JSON.stringify(result)}`);
    const attacked = scored.filter((p) => !p.endsWith(`Question: ${forget.question}\nAnswer:`));
    assert.ok(
      attacked.length >= task.splits.forget.qa.length,
      `${metric}: ${attacked.length} attack prompts`,
    );
    for (const p of attacked) {
      // The icul prefix: the retain example with its true answer, before the attacked question.
      assert.ok(p.includes(`Question: ${shot.question}\nAnswer: ${shot.answer}`), `${metric} prompt:\n${p}`);
    }
  }
});

test('an icul transform cut short by the context is a warning in the results (and so in the report)', () => {
  const spec = {
    kind: 'icul',
    version: 1,
    shots: 4,
    retainShots: 1,
    unmatched: 'retain',
    forget: [{ match: ['Where does Ada live?'], question: 'Where does Ada live?', answer: 'Nowhere.' }],
    retain: [{ question: 'Where does Bo live?', answer: 'Oslo.' }],
  };
  assert.deepEqual(Object.keys(transformWarnings(transformFromJson(spec))), [
    'icul: context length allows 1 of 3 correct examples per query (the rest were dropped)',
  ]);
  assert.deepEqual(transformWarnings(transformFromJson({ ...spec, shots: 2 })), {});
  assert.deepEqual(transformWarnings(null), {});
});
