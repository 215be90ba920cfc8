/**
 * Input-based unlearning (icul, guardrail) on a tiny GPT-2 trained to memorise nine QA pairs:
 * no weight changes, deterministic transforms that round-trip through JSON, the context placed
 * before the prompt with only answer tokens scored, context fitting, and the output filter.
 *
 * Tolerances: weights are compared bit for bit; "the context has an effect" means the summed
 * answer NLL of every forget item moves by more than 1e-3 nats; everything else is exact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { QaItem } from '../data/items.ts';
import { emptyEval, emptySplit, type Task } from '../data/task.ts';
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { buildModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import { qaExample, qaPrompt, qaShot, SHOT_SEPARATOR } from '../text/format.ts';
import { generate } from '../text/generate.ts';
import { scoreSequences } from '../text/score.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { train } from '../train/trainer.ts';
import {
  filterOutput,
  type GuardrailJson,
  type IculJson,
  loadTransform,
  promptedGenerate,
  promptedScoreRequests,
  promptedTextRequests,
  saveTransform,
  transformFromJson,
  transformToJson,
} from './prompted.ts';
import { unlearn } from './runner.ts';
import type { InputTransform } from './types.ts';

const qa = (id: string, question: string, answer: string, extra: Partial<QaItem> = {}): QaItem => ({
  id,
  question,
  answer,
  ...extra,
});

const FORGET: QaItem[] = [
  qa('f-born', 'Where was Ada Quill born?', 'Ada Quill was born in Norvik.', {
    paraphrasedQuestion: 'In which town was Ada Quill born?',
    perturbedAnswers: ['Ada Quill was born in Selby.', 'Ada Quill was born in Tarn.'],
  }),
  qa('f-job', 'What does Ada Quill do for a living?', 'Ada Quill is a glassblower.', {
    perturbedAnswers: ['Ada Quill is a fisher.', 'Ada Quill is a cooper.'],
  }),
  // No perturbed answers: icul must borrow another item's answer as the wrong label.
  qa('f-sister', "Who is Bram Oster's sister?", "Bram Oster's sister is Ada Quill."),
];
const people = [
  ['Cora Venn', 'Ashby', 'baker'],
  ['Dirk Holm', 'Brill', 'pilot'],
  ['Enzo Marl', 'Cray', 'tailor'],
];
const RETAIN: QaItem[] = people.flatMap(([name, town, job], i) => [
  qa(`r-${i}-born`, `Where was ${name} born?`, `${name} was born in ${town}.`),
  qa(`r-${i}-job`, `What does ${name} do for a living?`, `${name} is a ${job}.`),
]);

function makeTask(): Task {
  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  splits.forget.qa = FORGET;
  splits.retain.qa = RETAIN;
  return { name: 'input-test', format: 'qa', splits, eval: emptyEval(), idk: ["I don't know."], meta: {} };
}

const task = makeTask();
const tok: Tokenizer = trainByteLevelBpe(
  [...FORGET, ...RETAIN].flatMap((q) => [qaPrompt(q.question), q.answer, ...(q.perturbedAnswers ?? [])]),
  { vocabSize: 320, specialTokens: ['<|endoftext|>'] },
);
const gpt2 = (positions: number) =>
  buildModel(
    {
      model_type: 'gpt2',
      vocab_size: tok.vocabSize,
      n_positions: positions,
      n_embd: 48,
      n_layer: 2,
      n_head: 4,
      bos_token_id: tok.eosId,
      eos_token_id: tok.eosId,
    },
    new Rng(3),
  );

let trained: CausalLM | null = null;
/** The tiny LM that memorised forget ∪ retain (trained once, a few seconds). */
async function memorised(): Promise<CausalLM> {
  if (trained) return trained;
  const model = gpt2(256);
  const examples = [...FORGET, ...RETAIN].map((q) => qaExample(tok, q.question, q.answer));
  const r = await train(model, examples, { steps: 200, batchSize: 9, lr: 3e-3, progress: false, seed: 1 });
  assert.ok(r.finalLoss < 0.05, `memorisation loss ${r.finalLoss}`);
  trained = model;
  return model;
}

async function transformOf(method: string, args: Record<string, unknown> = {}, model?: CausalLM, seed = 0) {
  const r = await unlearn({
    model: model ?? (await memorised()),
    tokenizer: tok,
    task,
    method,
    args,
    seed,
    progress: false,
  });
  assert.ok(r.transform, `${method} returns a transform`);
  return r.transform;
}

const iculSpec = (t: InputTransform): IculJson => {
  const j = transformToJson(t);
  assert.ok(j.kind === 'icul');
  return j;
};
const guardrailSpec = (t: InputTransform): GuardrailJson => {
  const j = transformToJson(t);
  assert.ok(j.kind === 'guardrail');
  return j;
};

// Prompts covering every case of the icul lookup: forget, paraphrase, retain, unseen, raw text.
const PROBES = [
  ...FORGET.map((q) => qaPrompt(q.question)),
  qaPrompt('In which town was Ada Quill born?'),
  ...RETAIN.map((q) => qaPrompt(q.question)),
  qaPrompt('Who painted the harbour?'),
  'Ada Quill walked to the market.',
];

const weightsOf = (m: CausalLM) =>
  new Map([...m.stateDict()].map(([n, w]) => [n, Buffer.from(w.slice().buffer)]));

test('icul and guardrail change no weight (bit-identical)', async () => {
  const model = await memorised();
  const before = weightsOf(model);
  for (const method of ['icul', 'guardrail']) {
    const r = await unlearn({ model, tokenizer: tok, task, method, progress: false });
    assert.equal(r.requests.length, 1);
    assert.equal(r.requests[0].steps, 0);
    const after = weightsOf(model);
    assert.deepEqual([...after.keys()], [...before.keys()]);
    for (const [name, w] of before) assert.ok(w.equals(after.get(name)!), `${method} changed ${name}`);
  }
});

test('transforms are deterministic and round-trip through JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-input-'));
  try {
    for (const method of ['icul', 'guardrail']) {
      const a = await transformOf(method);
      const b = await transformOf(method);
      assert.deepEqual(a.toJSON(), b.toJSON(), `${method}: same task, args and seed give the same transform`);
      const back = transformFromJson(JSON.parse(JSON.stringify(transformToJson(a))));
      const path = join(dir, `${method}.json`);
      await saveTransform(path, a);
      const loaded = loadTransform(path);
      for (const t of [b, back, loaded]) {
        assert.equal(t.kind, a.kind);
        assert.deepEqual(t.toJSON(), a.toJSON());
        assert.deepEqual(t.blockPatterns, a.blockPatterns);
        assert.equal(t.refusal, a.refusal);
        for (const p of PROBES)
          assert.equal(t.prefix(p), a.prefix(p), `${method} prefix of ${JSON.stringify(p)}`);
      }
    }
    // The seed decides the wrong labels and the retain examples.
    const seeds = await Promise.all([1, 2, 3].map((s) => transformOf('icul', {}, undefined, s)));
    assert.ok(seeds.some((t) => JSON.stringify(t.toJSON()) !== JSON.stringify(seeds[0].toJSON())));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('icul: flipped forget example, then s−1 correct retain examples, then the query', async () => {
  const shots = 4;
  const t = await transformOf('icul', { shots });
  const spec = iculSpec(t);
  assert.equal(spec.retainShots, shots - 1);
  const retainShots = (text: string) =>
    RETAIN.filter((r) => text.includes(qaShot(r.question, r.answer) + SHOT_SEPARATOR));
  const allAnswers = [...FORGET, ...RETAIN].map((q) => q.answer);
  for (const f of FORGET) {
    for (const question of [f.question, f.paraphrasedQuestion].filter((q) => q !== undefined)) {
      const prefix = t.prefix(qaPrompt(question));
      const first = prefix.split(SHOT_SEPARATOR)[0];
      assert.ok(first.startsWith(`${qaPrompt(f.question)} `), 'the forget example comes first');
      const wrong = first.slice(qaPrompt(f.question).length + 1);
      assert.notEqual(wrong, f.answer);
      if (f.perturbedAnswers) assert.ok(f.perturbedAnswers.includes(wrong), `wrong label ${wrong}`);
      else assert.ok(allAnswers.includes(wrong), `borrowed wrong label ${wrong}`);
      assert.equal(retainShots(prefix).length, shots - 1, 'and s−1 correctly labelled examples');
      assert.ok(prefix.endsWith(SHOT_SEPARATOR));
      assert.ok(
        !FORGET.some((g) => prefix.includes(`${qaPrompt(g.question)} ${g.answer}`)),
        'no true forget label',
      );
    }
  }
  // Unmatched queries: retain examples only; a query that is one of them gets the spare instead.
  const unseen = t.prefix(qaPrompt('Who painted the harbour?'));
  assert.equal(retainShots(unseen).length, shots - 1);
  assert.ok(!FORGET.some((f) => unseen.includes(qaPrompt(f.question))));
  const own = RETAIN.find((r) => r.question === spec.retain[0].question)!;
  const ownPrefix = t.prefix(qaPrompt(own.question));
  assert.ok(!ownPrefix.includes(qaPrompt(own.question)), 'a query never sees its own answer');
  assert.equal(retainShots(ownPrefix).length, shots - 1);
  // unmatched=forget: a flipped forget example for every query, chosen by the query.
  const routed = await transformOf('icul', { shots, unmatched: 'forget' });
  const p = routed.prefix(qaPrompt('Who painted the harbour?'));
  assert.ok(FORGET.some((f) => p.startsWith(qaPrompt(f.question))));
  assert.equal(p, routed.prefix(qaPrompt('Who painted the harbour?')));
});

test('the prefix comes before the prompt and only answer tokens are scored', async () => {
  const model = await memorised();
  const items = [...FORGET, ...RETAIN].map((q) => ({ prompt: qaPrompt(q.question), answer: q.answer }));
  const plain = promptedScoreRequests(null, tok, items);
  // Without a transform the requests are exactly lethe's QA examples.
  [...FORGET, ...RETAIN].forEach((q, i) => assert.deepEqual(plain[i], qaExample(tok, q.question, q.answer)));
  for (const method of ['icul', 'guardrail']) {
    const t = await transformOf(method);
    const reqs = promptedScoreRequests(t, tok, items);
    reqs.forEach((r, i) => {
      const prefixIds = tok.encode(t.prefix(items[i].prompt), { addSpecialTokens: true });
      const promptIds = tok.encode(items[i].prompt, { addSpecialTokens: false });
      assert.ok(prefixIds.length > 0);
      assert.deepEqual(r.ids.slice(0, prefixIds.length), prefixIds, 'prefix first');
      assert.deepEqual(r.ids.slice(prefixIds.length, r.start), promptIds, 'then the prompt');
      assert.deepEqual(r.ids.slice(r.start), plain[i].ids.slice(plain[i].start), 'scored span unchanged');
    });
    const scored = scoreSequences(model, reqs);
    const base = scoreSequences(model, plain);
    scored.forEach((s, i) => assert.equal(s.tokens, base[i].tokens));
    // Raw text: the same text tokens are scored as textExample scores.
    const text = 'Ada Quill walked to the market.';
    const [r] = promptedTextRequests(t, tok, [text]);
    const [b] = promptedTextRequests(null, tok, [text]);
    assert.deepEqual(r.ids.slice(r.start), b.ids.slice(b.start));
  }
});

test('the icul context makes forget answers less likely (NLL rises by > 1e-3 nats)', async () => {
  const model = await memorised();
  const t = await transformOf('icul');
  const items = FORGET.map((q) => ({ prompt: qaPrompt(q.question), answer: q.answer }));
  const base = scoreSequences(model, promptedScoreRequests(null, tok, items));
  const prompted = scoreSequences(model, promptedScoreRequests(t, tok, items));
  base.forEach((b, i) => {
    assert.ok(b.nll / b.tokens < 0.1, `memorised: mean NLL ${b.nll / b.tokens}`);
    // Unlearning in context must push the answer's NLL up; a change in the other direction fails.
    assert.ok(prompted[i].nll - b.nll > 1e-3, `item ${i}: NLL ${b.nll} -> ${prompted[i].nll}`);
  });
});

test('guardrail: scope from the forget set, and the filter replaces a leaking generation', async () => {
  const model = await memorised();
  const t = await transformOf('guardrail');
  const spec = guardrailSpec(t);
  assert.deepEqual(spec.scope, ['Ada Quill', 'Bram Oster']);
  assert.equal(spec.scopeSource, 'names');
  assert.ok(t.prefix('x').startsWith('You must not reveal anything about: Ada Quill; Bram Oster.'));
  assert.equal(t.refusal, "I don't know.");
  for (const f of FORGET) assert.ok(t.blockPatterns!.includes(f.answer));

  const forgetPrompts = FORGET.map((q) => qaPrompt(q.question));
  const retainPrompts = RETAIN.map((q) => qaPrompt(q.question));
  const opts = { maxNewTokens: 24 };
  // The unprompted model reproduces its forget answers; the filter turns each into the refusal.
  const leaks = generate(
    model,
    forgetPrompts.map((p) => tok.encode(p, { addSpecialTokens: true })),
    { ...opts, eosTokenIds: [tok.eosId!], decode: (x) => tok.decode(x, { skipSpecialTokens: true }) },
  ).texts!;
  leaks.forEach((text, i) => {
    assert.equal(text.trim(), FORGET[i].answer, 'memorised');
    assert.deepEqual(filterOutput(t, text), { text: "I don't know.", blocked: true });
  });
  // Through promptedGenerate with the prefix removed (filter only), so the leak is certain.
  const filterOnly = transformFromJson({ ...transformToJson(t), prefix: '' });
  const g = promptedGenerate(model, tok, filterOnly, [...forgetPrompts, ...retainPrompts], opts);
  g.raw.forEach((raw, i) => {
    const leaked = i < FORGET.length;
    assert.equal(g.blocked[i], leaked, `row ${i}: ${raw}`);
    assert.equal(g.texts[i], leaked ? "I don't know." : raw);
    if (!leaked) assert.equal(raw.trim(), RETAIN[i - FORGET.length].answer, 'retain answers pass');
  });
  // With the guardrail's own prefix the filter is applied to whatever the model says.
  const h = promptedGenerate(model, tok, t, forgetPrompts, opts);
  h.raw.forEach((raw, i) => assert.equal(h.texts[i], filterOutput(t, raw).text));
  // filter=false: no patterns, nothing replaced; an explicit scope is used as given.
  const open = await transformOf('guardrail', { filter: false, scope: ['Ada Quill'] });
  assert.equal(open.blockPatterns, undefined);
  assert.deepEqual(filterOutput(open, leaks[0]), { text: leaks[0], blocked: false });
  assert.ok(open.prefix('').includes('about: Ada Quill.'));
});

test('prefixes fit the context: icul drops retain examples, guardrail scope items', async () => {
  const short = gpt2(96);
  const reserve = 40;
  const budget = 96 - reserve;
  const t = await transformOf('icul', { shots: 4, reserve }, short);
  const spec = iculSpec(t);
  assert.ok(spec.retainShots < 3, `retain examples dropped (kept ${spec.retainShots})`);
  for (const p of PROBES) {
    const n = tok.encode(t.prefix(p), { addSpecialTokens: true }).length;
    assert.ok(n <= budget, `${n} prefix tokens > ${budget} for ${JSON.stringify(p)}`);
  }
  // At evaluation a request longer than maxLen loses retain examples first, never the flipped one.
  const full = await transformOf('icul', { shots: 4 });
  const item = { prompt: qaPrompt(FORGET[0].question), answer: FORGET[0].answer };
  const [long] = promptedScoreRequests(full, tok, [item]);
  const maxLen = long.ids.length - 10;
  const [cut] = promptedScoreRequests(full, tok, [item], { maxLen });
  assert.ok(cut.ids.length <= maxLen);
  assert.deepEqual(cut.ids.slice(cut.start), long.ids.slice(long.start));
  assert.ok(tok.decode(cut.ids).startsWith(full.prefix(item.prompt).split(SHOT_SEPARATOR)[0]));

  // A context that barely holds a QA pair still gives transforms (cut at evaluation); an explicit
  // reserve that leaves no room is an error.
  const tiny = gpt2(32);
  for (const method of ['icul', 'guardrail']) {
    assert.ok((await transformOf(method, {}, tiny)).prefix(qaPrompt(FORGET[0].question)).length > 0);
    await assert.rejects(transformOf(method, { reserve: 32 }, tiny), ConfigError);
  }

  // Guardrail: measure the whole list's prefix, then allow half of it.
  const scope = Array.from({ length: 30 }, (_, i) => `Person Number${i}`);
  const wide = gpt2(1024);
  const whole = await transformOf('guardrail', { scope, reserve: 1, maxScopeItems: 30 }, wide);
  assert.doesNotMatch(whole.prefix(''), /more not listed/);
  const half = Math.floor(tok.encode(whole.prefix(''), { addSpecialTokens: true }).length / 2);
  const g = await transformOf('guardrail', { scope, reserve: 1024 - half, maxScopeItems: 30 }, wide);
  const named = g.prefix('');
  assert.ok(tok.encode(named, { addSpecialTokens: true }).length <= half);
  assert.match(named, /\(and \d+ more not listed\)/);
  assert.equal(
    g.blockPatterns!.filter((p) => p.startsWith('Person')).length,
    30,
    'the filter keeps the whole scope',
  );
});

test('malformed transform files and arguments are ConfigErrors naming the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-input-'));
  try {
    const good = transformToJson(await transformOf('icul'));
    const cases: [unknown, string][] = [
      [{ ...good, retainShots: 9 }, 'retainShots'],
      [{ ...good, kind: 'prompt' }, 'kind'],
      [{ ...good, forget: [] }, 'forget'],
      [{ ...good, extra: 1 }, 'extra'],
    ];
    for (const [value, key] of cases) {
      const path = join(dir, 'bad.json');
      writeFileSync(path, JSON.stringify(value));
      assert.throws(
        () => loadTransform(path),
        (e: unknown) => e instanceof ConfigError && e.message.includes(path) && e.message.includes(key),
      );
    }
    writeFileSync(join(dir, 'broken.json'), '{"kind": ');
    assert.throws(() => loadTransform(join(dir, 'broken.json')), ConfigError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const model = await memorised();
  for (const args of [{ shots: 0 }, { window: 3 }])
    await assert.rejects(
      unlearn({ model, tokenizer: tok, task, method: 'icul', args, progress: false }),
      ConfigError,
    );
});

/** Transforms are plain data behind the interface: no method may hide state outside its JSON. */
test('a transform rebuilt from JSON alone equals the original on every probe', async () => {
  const originals: InputTransform[] = [
    await transformOf('icul', { unmatched: 'forget' }),
    await transformOf('guardrail'),
  ];
  for (const t of originals) {
    const copy = transformFromJson(structuredClone(t.toJSON()));
    for (const p of PROBES) assert.equal(copy.prefix(p), t.prefix(p));
  }
});
