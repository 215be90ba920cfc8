/**
 * Method definitions (define.ts): declared needs decide the context's type (the @ts-expect-error
 * lines fail `tsc --noEmit` if a need stops narrowing) and, at run time, exactly which fields the
 * method sees; a need the run context lacks is a clear error; setup's state reaches loss and
 * trainable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigError, LetheError } from '../errors.ts';
import type { Batch, Example } from '../text/batch.ts';
import { gradientMethod, inputMethod, statefulGradientMethod, weightMethod } from './define.ts';
import { influence } from './methods/influence.ts';
import { resolveArgs } from './runner.ts';
import type { RunBatch, RunContext } from './types.ts';

const about = { summary: 'a test method', paper: 'none' };

/** A run context without a model (nothing here runs one), overridable per field. */
const runContext = (over: Partial<RunContext> = {}): RunContext => ({
  model: null as never,
  tokenizer: null as never,
  task: null as never,
  args: {},
  seed: 3,
  forget: [],
  retain: null,
  idk: null,
  random: null,
  reference: null,
  refLogp: null,
  log: () => {},
  trainingStage: () => ({ logFile: undefined, done: () => {} }),
  ...over,
});

const batchOf = (tokens: number) => ({ tokens }) as Batch;

test('a method sees exactly the fields its needs declare, with its own arguments parsed', async () => {
  const retain: Example[] = [];
  const forgetLp = new Float32Array([-1, -2]);
  let seen: string[] = [];
  let refKeys: string[] = [];
  const probe = weightMethod({
    name: 'probe',
    ...about,
    args: z.object({ w: z.number().default(2) }),
    needs: { retain: true, referenceLogProbs: true },
    async apply(ctx) {
      seen = Object.keys(ctx).sort();
      refKeys = Object.keys(ctx.refLogp);
      assert.equal(ctx.retain, retain);
      assert.equal(ctx.refLogp.forget, forgetLp);
      assert.deepEqual(ctx.args, { w: 2 }); // the shared training arguments are not the method's
    },
  });
  assert.deepEqual(probe.needs, { retain: true, referenceLogProbs: true });
  // Every field is on offer; only the declared ones come through.
  await probe.apply(
    runContext({
      args: { w: 2, lr: 1e-3 },
      retain,
      idk: [],
      random: [],
      reference: {} as never,
      refLogp: { forget: forgetLp, idk: new Float32Array(2) },
    }),
  );
  assert.deepEqual(seen, [
    'args',
    'forget',
    'log',
    'model',
    'refLogp',
    'retain',
    'seed',
    'task',
    'tokenizer',
    'trainingStage',
  ]);
  assert.deepEqual(refKeys, ['forget'], 'no refusal log-probs without the idk need');
});

test('a declared need the run context lacks is a clear error naming the method and the need', async () => {
  await assert.rejects(
    influence.apply(runContext({ args: resolveArgs(influence, {}) })),
    (e: unknown) =>
      e instanceof LetheError && /method influence declares a need .*: retain examples/.test(e.message),
  );
  const dpoLike = weightMethod({
    name: 'dpo-like',
    ...about,
    args: z.object({}),
    needs: { idk: true, referenceLogProbs: true },
    async apply() {},
  });
  await assert.rejects(
    dpoLike.apply(runContext({ idk: [], refLogp: { forget: new Float32Array(1), idk: null } })),
    /dpo-like declares a need .*reference log-probs of the refusals/,
  );
});

test("setup's state reaches trainable and loss; a batch carries exactly the declared parts", async () => {
  let batchKeys: string[] = [];
  const m = statefulGradientMethod({
    name: 'stateful',
    ...about,
    args: z.object({ k: z.number().default(2) }),
    needs: { idk: true, randomAnswers: (a) => a.k },
    setup: (ctx) => ({ keep: `seed ${ctx.seed}` }),
    trainable: (name, ctx) => name === ctx.state.keep,
    loss(ctx, b) {
      batchKeys = Object.keys(b).sort();
      return { loss: null as never, logs: { idk: b.idk.tokens, variants: b.random.length, k: ctx.args.k } };
    },
  });
  assert.equal(m.restrictsParameters, true);
  assert.equal(m.needs.randomAnswers?.({ k: 5, lr: 1 }), 5, 'K comes from the parsed arguments');
  const run = await m.start(runContext({ idk: [], random: [[], []] }));
  assert.equal(run.trainable('seed 3'), true);
  assert.equal(run.trainable('transformer.h.0.attn.c_attn.weight'), false);
  const batch: RunBatch = {
    tokens: 9,
    forget: batchOf(3),
    forgetIndex: [0],
    retain: batchOf(4),
    idk: batchOf(2),
    random: [batchOf(1), batchOf(1)],
  };
  assert.deepEqual(run.loss(batch).logs, { idk: 2, variants: 2, k: 2 });
  assert.deepEqual(batchKeys, ['forget', 'forgetIndex', 'idk', 'random', 'tokens'], 'no retain part');
  assert.throws(() => run.loss({ ...batch, idk: null }), /stateful declares a need .*a refusal batch/);
  // Without a trainable rule every parameter may train.
  const plain = gradientMethod({
    name: 'plain',
    ...about,
    args: z.object({}),
    needs: {},
    loss: () => ({ loss: null as never, logs: {} }),
  });
  assert.equal(plain.restrictsParameters, false);
  assert.equal((await plain.start(runContext())).trainable('anything'), true);
});

test('arguments must be a z.object', () => {
  assert.throws(
    () =>
      inputMethod({
        name: 'bad',
        ...about,
        args: z.string(),
        needs: {},
        transform: () => {
          throw new Error('unreachable');
        },
      }),
    (e: unknown) => e instanceof ConfigError && /bad: its args schema must be a z\.object/.test(e.message),
  );
});

test('undeclared needs are type errors (tsc checks this file)', () => {
  // Each @ts-expect-error below fails the typecheck if its line ever compiles.
  const noLoss = () => ({ loss: null as never, logs: {} });
  gradientMethod({
    name: 'no-retain',
    ...about,
    args: z.object({}),
    needs: {},
    loss(ctx, b) {
      // @ts-expect-error retain is not declared, so the batch has no retain part
      b.retain;
      // @ts-expect-error nor does the context hold a reference model
      ctx.reference;
      return noLoss();
    },
  });
  gradientMethod({
    name: 'no-idk-logp',
    ...about,
    args: z.object({}),
    needs: { referenceLogProbs: true },
    loss(ctx) {
      // @ts-expect-error refusal log-probs exist only with the idk need
      ctx.refLogp.idk;
      return noLoss();
    },
  });
  gradientMethod({
    name: 'unknown-need',
    ...about,
    args: z.object({ k: z.number() }),
    needs: {
      // @ts-expect-error not a need
      teacher: true,
    },
    loss: noLoss,
  });
  gradientMethod({
    name: 'typed-args',
    ...about,
    args: z.object({ k: z.number() }),
    // @ts-expect-error the arguments have no field nope
    needs: { randomAnswers: (a) => a.nope },
    loss: noLoss,
  });
  // @ts-expect-error a stateful method must build its state in setup
  statefulGradientMethod<Record<string, never>, never, { layer: number }>({
    name: 'no-setup',
    ...about,
    args: z.object({}),
    needs: {},
    loss: (ctx) => ({ loss: null as never, logs: { layer: ctx.state.layer } }),
  });
});
