/**
 * Weight-editing unlearning methods (task-vector, whp, influence) run end to end through
 * `unlearn()` on a tiny GPT-2 that has memorised a hand-written QA task: each raises the forget
 * NLL, rejects unknown or ill-typed arguments with a ConfigError naming its valid keys, and
 * task-vector's arithmetic is exact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { z } from 'zod';
import type { QaItem } from '../data/items.ts';
import { emptyEval, emptySplit, type Task } from '../data/task.ts';
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { buildModel, cloneModel } from '../models/registry.ts';
import { noGrad, Rng } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { splitExamples } from '../text/format.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { epochBatches } from '../train/batching.ts';
import { train } from '../train/trainer.ts';
import { weightMethod } from './define.ts';
import { meanNll } from './losses.ts';
import { negateTaskVector } from './methods/task-vector.ts';
import { genericTargets } from './methods/whp.ts';
import { registerMethod } from './registry.ts';
import { unlearn } from './runner.ts';

const NAMES = ['Ada', 'Boris', 'Clio', 'Dara', 'Egon', 'Fenna', 'Gus', 'Hilde', 'Ivo', 'Juno', 'Kai', 'Lore'];
const TOWNS = [
  'Ashby',
  'Brill',
  'Cove',
  'Dunmore',
  'Elm',
  'Fairly',
  'Glen',
  'Hove',
  'Ince',
  'Jarrow',
  'Kell',
  'Lynn',
];
const qa: QaItem[] = NAMES.map((n, i) => ({
  id: `p${i}`,
  question: `Where does ${n} live?`,
  answer: `${n} lives in ${TOWNS[(i * 5) % TOWNS.length]}.`,
}));

// Forget the first three people; the other nine are retain data.
const task: Task = {
  name: 'tiny-people',
  format: 'qa',
  splits: {
    forget: { ...emptySplit(), qa: qa.slice(0, 3) },
    retain: { ...emptySplit(), qa: qa.slice(3) },
    holdout: emptySplit(),
  },
  eval: emptyEval(),
  idk: [],
  meta: {},
};

let tokenizer: Tokenizer;
let target: CausalLM;
let forget: Example[];

/** Mean answer NLL per example over the forget set (no gradient). */
const forgetNll = (m: CausalLM): number =>
  noGrad(() => meanNll(m, epochBatches(forget, forget.length, 0, 0, { shuffle: false })[0]).item());

const bits = (m: CausalLM): Uint32Array[] => m.parameters().map((p) => new Uint32Array(p.f32.slice().buffer));

before(async () => {
  tokenizer = trainByteLevelBpe(
    qa.flatMap((q) => [`Question: ${q.question}\nAnswer: ${q.answer}`]),
    { vocabSize: 320, specialTokens: ['<|endoftext|>'] },
  );
  const eos = tokenizer.eosId!;
  target = buildModel(
    {
      model_type: 'gpt2',
      vocab_size: tokenizer.vocabSize,
      n_positions: 64,
      n_embd: 32,
      n_layer: 2,
      n_head: 2,
      bos_token_id: eos,
      eos_token_id: eos,
    },
    new Rng(3),
  );
  forget = splitExamples(tokenizer, task.splits.forget, 256);
  const all = [...forget, ...splitExamples(tokenizer, task.splits.retain, 256)];
  await train(target, all, { steps: 100, batchSize: 6, lr: 5e-3, schedule: 'constant', progress: false });
});

/** "Goes up" here means at least doubled: clearly beyond any noise of a deterministic run. */
const raised = (before: number, after: number): boolean => after > 2 * before;

async function run(
  method: string,
  args: Record<string, unknown>,
): Promise<{ model: CausalLM; before: number; after: number }> {
  const model = cloneModel(target);
  const before = forgetNll(model);
  await unlearn({ model, tokenizer, task, method, args, progress: false });
  return { model, before, after: forgetNll(model) };
}

test('the fixture model has memorised its answers', () => {
  assert.ok(forgetNll(target) < 0.3, `forget NLL ${forgetNll(target)}`);
});

test('task-vector arithmetic: every weight is θ0 − λ(θ_ft − θ0) in float64, rounded once (0 ulp)', () => {
  const rng = new Rng(11);
  for (const lambda of [1, 5, -0.37, 2.5e-3]) {
    const model = cloneModel(target);
    const tuned = cloneModel(target);
    for (const p of tuned.parameters())
      for (let j = 0; j < p.size; j++) if (rng.uniform() < 0.9) p.f32[j] += 0.05 * rng.normal();
    const theta0 = model.parameters().map((p) => Float64Array.from(p.f32));
    const ft = tuned.parameters().map((p) => Float64Array.from(p.f32));
    negateTaskVector(model, tuned, lambda);
    model.parameters().forEach((p, i) => {
      for (let j = 0; j < p.size; j++) {
        // The reference is the exact-as-float64 value rounded to float32; the tolerance is zero.
        const want = Math.fround(theta0[i][j] - lambda * (ft[i][j] - theta0[i][j]));
        if (p.f32[j] !== want) assert.fail(`λ=${lambda}: param ${i}[${j}] = ${p.f32[j]}, expected ${want}`);
      }
    });
  }
});

test('task-vector with λ = 0 leaves the model bit-identical', async () => {
  const { model } = await run('task-vector', { lambda: 0, epochs: 2 });
  assert.deepEqual(bits(model), bits(target));
});

test('task-vector equals θ0 − λ·(θ_ft − θ0) for the fine-tune it describes, and raises the forget NLL', async () => {
  const { model, before, after } = await run('task-vector', { steps: 20 });
  // The same fine-tune, redone independently: 20 steps at the defaults lr 1e-3, batch 8, constant
  // schedule, clip 1, no decay, seed 0 (the trainer is deterministic), λ = 1.
  const tuned = cloneModel(target);
  await train(tuned, forget, {
    steps: 20,
    lr: 1e-3,
    batchSize: 8,
    schedule: 'constant',
    clipNorm: 1,
    weightDecay: 0,
    seed: 0,
    progress: false,
  });
  const t0 = target.parameters();
  const ft = tuned.parameters();
  model.parameters().forEach((p, i) => {
    for (let j = 0; j < p.size; j++) {
      const want = Math.fround(t0[i].f32[j] - (ft[i].f32[j] - t0[i].f32[j]));
      if (p.f32[j] !== want) assert.fail(`param ${i}[${j}] = ${p.f32[j]}, expected ${want}`);
    }
  });
  assert.ok(raised(before, after), `forget NLL ${before} → ${after}`);
});

test('whp raises the forget NLL (soft and argmax generic targets)', async () => {
  const steps = { reinforceSteps: 20, finetuneSteps: 20 };
  const soft = await run('whp', { ...steps, alpha: 5 });
  assert.ok(raised(soft.before, soft.after), `soft: forget NLL ${soft.before} → ${soft.after}`);
  const hard = await run('whp', { ...steps, labels: 'argmax', alpha: 5 });
  assert.ok(raised(hard.before, hard.after), `argmax: forget NLL ${hard.before} → ${hard.after}`);
});

test('whp targets are softmax(v_base − α·ReLU(v_reinf − v_base)) of centred logits; top-k is its renormalised head', () => {
  const reinforced = cloneModel(target);
  const rng = new Rng(5);
  for (const p of reinforced.parameters()) for (let j = 0; j < p.size; j++) p.f32[j] += 0.05 * rng.normal();
  const opts = { alpha: 2, batchSize: 2 };
  const full = genericTargets(target, reinforced, forget, { ...opts, labels: 'soft', topK: 0 });
  const top = genericTargets(target, reinforced, forget, { ...opts, labels: 'soft', topK: 5 });
  const arg = genericTargets(target, reinforced, forget, { ...opts, labels: 'argmax', topK: 5 });
  const V = target.vocabSize;
  forget.forEach((ex, e) => {
    const batch = epochBatches([ex], 1, 0, 0, { shuffle: false })[0];
    const lb = noGrad(() => target.forward(batch.inputs).logits!.f32);
    const lr = noGrad(() => reinforced.forward(batch.inputs).logits!.f32);
    const positions = ex.ids.length - ex.start;
    assert.equal(full[e].positions, positions);
    for (let p = 0; p < positions; p++) {
      const o = (ex.start - 1 + p) * V;
      const mean = (l: Float32Array) => l.subarray(o, o + V).reduce((s, x) => s + x, 0) / V;
      const [mb, mr] = [mean(lb), mean(lr)];
      const vg = Array.from(
        { length: V },
        (_, v) => lb[o + v] - mb - 2 * Math.max(0, lr[o + v] - mr - (lb[o + v] - mb)),
      );
      const m = Math.max(...vg);
      const z = vg.reduce((s, x) => s + Math.exp(x - m), 0);
      const want = vg.map((x) => Math.exp(x - m) / z);
      const got = new Float64Array(V);
      for (let j = 0; j < V; j++) got[full[e].ids[p * V + j]] = full[e].probs[p * V + j];
      for (let v = 0; v < V; v++) assert.ok(Math.abs(got[v] - want[v]) < 1e-6, `position ${p} token ${v}`);
      // Top-5: the five most probable tokens in order, renormalised; argmax: the first of them.
      const head = Array.from(full[e].ids.subarray(p * V, p * V + 5));
      assert.deepEqual(Array.from(top[e].ids.subarray(p * 5, p * 5 + 5)), head);
      const mass = head.reduce((s, v) => s + got[v], 0);
      head.forEach((v, j) => {
        assert.ok(Math.abs(top[e].probs[p * 5 + j] - got[v] / mass) < 1e-6);
      });
      assert.equal(arg[e].ids[p], head[0]);
      assert.equal(arg[e].probs[p], 1);
    }
  });
});

test('influence raises the forget NLL (fisher and hutchinson curvature)', async () => {
  const fisher = await run('influence', {});
  assert.ok(raised(fisher.before, fisher.after), `fisher: forget NLL ${fisher.before} → ${fisher.after}`);
  const hutch = await run('influence', { curvature: 'hutchinson' });
  assert.ok(raised(hutch.before, hutch.after), `hutchinson: forget NLL ${hutch.before} → ${hutch.after}`);
});

test('influence restricted by layers= changes only the selected weights', async () => {
  const { model, before, after } = await run('influence', { layers: 'mlp' });
  const names = model.namedParameters().map(([n]) => n);
  const a = bits(model);
  const b = bits(target);
  names.forEach((n, i) => {
    if (!/mlp/.test(n)) assert.deepEqual(a[i], b[i], `${n} changed`);
  });
  assert.ok(raised(before, after), `forget NLL ${before} → ${after}`);
});

for (const [method, valid] of [
  ['task-vector', 'lambda'],
  ['whp', 'alpha'],
  ['influence', 'damping'],
] as const) {
  test(`${method} rejects unknown and ill-typed arguments, naming its valid keys`, async () => {
    for (const args of [{ bogus: 1 }, { [valid]: 'many' }, { maxLen: -1 }]) {
      await assert.rejects(
        unlearn({ model: cloneModel(target), tokenizer, task, method, args, progress: false }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.match(e.details.hint ?? '', new RegExp(`valid keys: .*\\b${valid}\\b`));
          return true;
        },
      );
    }
  });
}

test('influence rejects a layers regex that selects nothing', async () => {
  await assert.rejects(
    unlearn({
      model: cloneModel(target),
      tokenizer,
      task,
      method: 'influence',
      args: { layers: '^nothing$' },
      progress: false,
    }),
    ConfigError,
  );
});

test("a weight method's training stages are counted: steps, and every step in the run's log", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-weight-stages-'));
  try {
    const logFile = join(dir, 'unlearn-log.jsonl');
    const tv = await unlearn({
      model: cloneModel(target),
      tokenizer,
      task,
      method: 'task-vector',
      args: { steps: 7 },
      progress: false,
      logFile,
    });
    assert.equal(tv.requests[0].steps, 7);
    assert.ok(Number.isFinite(tv.requests[0].finalLoss));
    const lines = (path: string) =>
      readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { stage: string; step: number; tokens: number });
    const tvLog = lines(logFile);
    assert.deepEqual(
      tvLog.map((e) => [e.stage, e.step]),
      [1, 2, 3, 4, 5, 6, 7].map((s) => ['fine-tune', s]),
    );
    assert.ok(tvLog.every((e) => e.tokens > 0));
    assert.deepEqual(readdirSync(dir), ['unlearn-log.jsonl'], 'the stage logs were merged and removed');
    // whp's two stages, in order, neither overwriting the other.
    const whp = await unlearn({
      model: cloneModel(target),
      tokenizer,
      task,
      method: 'whp',
      args: { reinforceSteps: 3, finetuneSteps: 4 },
      progress: false,
      logFile,
    });
    assert.equal(whp.requests[0].steps, 7);
    assert.deepEqual(
      lines(logFile).map((e) => [e.stage, e.step]),
      [...[1, 2, 3].map((s) => ['reinforce', s]), ...[1, 2, 3, 4].map((s) => ['fine-tune', s])],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a training stage needs a new lower-case name (it becomes part of a file name)', async () => {
  registerMethod(
    weightMethod({
      name: 'test-stage-names',
      summary: 'asks for the stages its arguments name',
      paper: 'none',
      args: z.object({ names: z.array(z.string()) }),
      needs: {},
      async apply(ctx) {
        for (const name of ctx.args.names) ctx.trainingStage(name);
      },
    }),
  );
  const dir = mkdtempSync(join(tmpdir(), 'lethe-stage-names-'));
  const tryNames = (names: string[]) =>
    unlearn({
      model: cloneModel(target),
      tokenizer,
      task,
      method: 'test-stage-names',
      args: { names },
      progress: false,
      logFile: join(dir, 'unlearn-log.jsonl'),
    });
  try {
    await tryNames(['reinforce', 'fine-tune']);
    await assert.rejects(tryNames(['../escape']), ConfigError);
    await assert.rejects(tryNames(['fine-tune', 'fine-tune']), /not a new lower-case name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
