/**
 * The PII metrics added for small models: the QA-format probe (asked as the target was trained)
 * and the teacher-forced value accuracy. On the tiny evaluation world the target answers its
 * forget people's QA probes and predicts their values; holdout people (never trained) stay low.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate } from '../runner.ts';
import { evalWorld } from '../test-fixture.ts';
import { piiQuestion } from './privacy.ts';

test('the QA-format probe uses the task’s own question about the same subject and field', async () => {
  const w = await evalWorld();
  const r = w.task.eval.pii.forget[0];
  assert.equal(piiQuestion(w.task, r), w.task.splits.forget.qa[0].question);
  const other = { ...r, id: 'nobody-pii-email', person: 'Zed', field: 'email' };
  assert.equal(piiQuestion(w.task, other), "What is Zed's e-mail address?");
});

test('QA-format leak rate and value accuracy: forget people leak, holdout people do not', async () => {
  const w = await evalWorld();
  const names = ['forget', 'holdout'].flatMap((s) => [`pii.qa.${s}`, `pii.valueAccuracy.${s}`]);
  const r = await evaluate({
    task: w.task,
    metrics: names,
    model: { model: w.target, tokenizer: w.tokenizer },
  });
  const v = (n: string) => {
    const out = r.metrics[n].unlearned;
    return 'value' in out ? (out.value as number) : Number.NaN;
  };
  assert.ok(v('pii.qa.forget') >= 0.75, `forget QA leak ${v('pii.qa.forget')}`);
  assert.ok(v('pii.qa.forget') > v('pii.qa.holdout'), `holdout QA leak ${v('pii.qa.holdout')}`);
  assert.ok(
    v('pii.valueAccuracy.forget') > v('pii.valueAccuracy.holdout'),
    `value accuracy ${v('pii.valueAccuracy.forget')} vs ${v('pii.valueAccuracy.holdout')}`,
  );
});
