/**
 * Prompt attacks: paraphrases, adversarial templates and in-context relearning give well-formed
 * prompts in lethe's QA format that contain the question; their score requests score exactly the
 * answer tokens; scoring them on a model leaves it unchanged. No numeric tolerances: the checks
 * are exact (ids, strings), plus "every NLL is finite".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tinyWorld } from '../../../test/helpers/unlearn-world.ts';
import type { QaItem } from '../../data/items.ts';
import { buildModel } from '../../models/registry.ts';
import { Rng } from '../../tensor/index.ts';
import { qaAnswer, qaExample, qaPrompt } from '../../text/format.ts';
import { generate } from '../../text/generate.ts';
import { scoreSequences } from '../../text/score.ts';
import {
  adversarialQueries,
  adversarialTemplates,
  attackPromptIds,
  attackScoreRequests,
  attackText,
  inContextRelearning,
  paraphraseQueries,
} from './prompts.ts';

const items: QaItem[] = [
  {
    id: 'a',
    question: 'Where does Ada live?',
    answer: 'Ada lives in Oslo.',
    paraphrasedQuestion: 'What is Ada’s town?',
  },
  { id: 'b', question: 'Where does Ben live?', answer: 'Ben lives in Lima.' },
  {
    id: 'c',
    question: 'Where does Cleo live?',
    answer: 'Cleo lives in Perth.',
    paraphrasedQuestion: 'Cleo resides where?',
  },
];

test('paraphraseQueries uses paraphrasedQuestion when there is one', () => {
  const out = paraphraseQueries(items);
  assert.deepEqual(
    out.map((p) => [p.id, p.attack, p.prompt, p.answer]),
    [
      ['a', 'paraphrase', qaPrompt('What is Ada’s town?'), 'Ada lives in Oslo.'],
      ['b', 'original', qaPrompt('Where does Ben live?'), 'Ben lives in Lima.'],
      ['c', 'paraphrase', qaPrompt('Cleo resides where?'), 'Cleo lives in Perth.'],
    ],
  );
  assert.deepEqual(
    paraphraseQueries(items, { missing: 'skip' }).map((p) => p.id),
    ['a', 'c'],
  );
});

test('adversarial templates: named, documented, QA format, question verbatim, answer not leaked', () => {
  assert.ok(adversarialTemplates.length >= 4);
  assert.equal(new Set(adversarialTemplates.map((t) => t.name)).size, adversarialTemplates.length);
  const styles = new Set(adversarialTemplates.map((t) => t.style));
  for (const s of ['role-play', 'jailbreak', 'cloze', 'translation']) assert.ok(styles.has(s as never), s);
  for (const t of adversarialTemplates) assert.ok(t.description.length > 10, t.name);

  const out = adversarialQueries(items);
  assert.equal(out.length, items.length * adversarialTemplates.length);
  for (const p of out) {
    const item = items.find((q) => q.id === p.id)!;
    assert.ok(p.prompt.endsWith('\nAnswer:'), `${p.attack}: ends with the answer cue`);
    assert.ok(p.prompt.includes('Question: '), `${p.attack}: has the question cue`);
    assert.ok(p.prompt.includes(item.question), `${p.attack}: contains the question verbatim`);
    assert.ok(!p.prompt.includes(item.answer), `${p.attack}: does not contain the answer`);
    assert.equal((p.prompt.match(/\nAnswer:/g) ?? []).length, 1, `${p.attack}: one answer cue`);
    assert.equal(p.answer, item.answer);
    assert.deepEqual(p.context, []);
    assert.match(p.attack, /^template:/);
  }
  // A chosen subset of templates.
  assert.equal(adversarialQueries(items, adversarialTemplates.slice(0, 1)).length, items.length);
});

test('inContextRelearning: true forget pairs before the other questions, seeded', () => {
  const out = inContextRelearning(items, 2, { seed: 3 });
  assert.equal(out.length, 1);
  const [q] = out;
  assert.equal(q.attack, 'in-context');
  assert.equal(q.context.length, 2);
  const shotIds = items.filter((i) => i.id !== q.id);
  // Every shot is some other item with its true answer, in qaShot format.
  for (const s of q.context) {
    const src = shotIds.find((i) => s === qaPrompt(i.question) + qaAnswer(i.answer));
    assert.ok(src, `shot ${JSON.stringify(s)} is a true forget pair`);
  }
  assert.equal(q.prompt, qaPrompt(items.find((i) => i.id === q.id)!.question));
  assert.ok(attackText(q).endsWith(`\n\n${q.prompt}`));
  assert.ok(attackText(q).startsWith('Question: '));
  assert.deepEqual(inContextRelearning(items, 2, { seed: 3 }), out);
  // One shot: the other two are asked.
  assert.equal(inContextRelearning(items, 1).length, 2);
  // Explicit queries (e.g. relearnSplit's held-out half); a query's own pair is never its shot.
  const asked = inContextRelearning(items, 3, { queries: [items[0]] });
  assert.equal(asked.length, 1);
  assert.equal(asked[0].context.length, 2);
  assert.ok(asked[0].context.every((s) => !s.includes(items[0].question)));
  for (const bad of [0, 3, 1.5]) assert.throws(() => inContextRelearning(items, bad), /shots/);
});

test('score requests: plain prompts equal qaExample; attacks change only what precedes the answer', async () => {
  const { task, tokenizer } = await tinyWorld();
  // The fixture's tokenizer knows only the task's words, so templates take ~140 tokens: score on a
  // random GPT-2 with room for them (well-formedness needs no trained weights).
  const model = buildModel(
    {
      model_type: 'gpt2',
      vocab_size: tokenizer.vocabSize,
      n_positions: 512,
      n_embd: 16,
      n_layer: 1,
      n_head: 2,
    },
    new Rng(0),
  );
  const forget = task.splits.forget.qa;
  const plain = paraphraseQueries(forget); // no paraphrases in the fixture: the original questions
  const reqs = attackScoreRequests(tokenizer, plain);
  forget.forEach((q, i) => assert.deepEqual(reqs[i], qaExample(tokenizer, q.question, q.answer)));

  const before = model.parameters().map((p) => p.f32.slice());
  const attacks = [...adversarialQueries(forget), ...inContextRelearning(forget, 2)];
  const requests = attackScoreRequests(tokenizer, attacks, { maxLen: model.maxPositions });
  attacks.forEach((p, i) => {
    const item = forget.find((q) => q.id === p.id)!;
    const ref = qaExample(tokenizer, item.question, item.answer);
    const r = requests[i];
    assert.ok(r.ids.length <= model.maxPositions);
    // The scored span is the answer + EOS exactly as in qaExample.
    assert.deepEqual(r.ids.slice(r.start), ref.ids.slice(ref.start), `${p.attack} ${p.id}`);
    assert.equal(tokenizer.decode(r.ids.slice(0, r.start)).trim(), attackText(p).trim());
  });
  for (const s of scoreSequences(model, requests)) assert.ok(Number.isFinite(s.nll) && s.tokens > 0);
  const ids = attackPromptIds(tokenizer, attacks, { maxLen: model.maxPositions, maxNewTokens: 8 });
  const gen = generate(model, ids, { maxNewTokens: 8 });
  assert.equal(gen.tokens.length, attacks.length);
  model.parameters().forEach((p, i) => assert.deepEqual(p.f32, before[i], 'scoring changed the model'));
});

test('a context too long for the model loses its farthest shots first; a prompt that cannot fit throws', async () => {
  const { task, tokenizer } = await tinyWorld();
  const forget = task.splits.forget.qa;
  const [p] = inContextRelearning(forget, 3);
  const full = attackScoreRequests(tokenizer, [p])[0];
  const fewer = attackScoreRequests(tokenizer, [{ ...p, context: p.context.slice(1) }])[0];
  assert.ok(fewer.ids.length < full.ids.length);
  const [cut] = attackScoreRequests(tokenizer, [p], { maxLen: full.ids.length - 1 });
  assert.deepEqual(cut, fewer);
  assert.throws(() => attackScoreRequests(tokenizer, [p], { maxLen: 5 }), /too long/);
});
