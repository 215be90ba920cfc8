/**
 * Module: HF-style dotted names and their order, module lists, tied weights, train/eval,
 * numParameters, stateDict/loadState round trips and the errors for missing, unexpected and
 * mis-sized tensors. Everything here is exact (no arithmetic).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointError, ConfigError } from '../errors.ts';
import { Rng, Tensor } from '../tensor/index.ts';
import { Embedding, LayerNorm, Linear } from './layers.ts';
import { Module, ModuleList } from './module.ts';

class Attn extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  constructor(C: number, rng: Rng) {
    super();
    this.c_attn = this.registerModule('c_attn', new Linear(C, 3 * C, { rng }));
    this.c_proj = this.registerModule('c_proj', new Linear(C, C, { rng, bias: false }));
  }
}

class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: Attn;
  constructor(C: number, rng: Rng) {
    super();
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(C));
    this.attn = this.registerModule('attn', new Attn(C, rng));
  }
}

class Transformer extends Module {
  readonly wte: Embedding;
  readonly h: ModuleList<Block>;
  constructor(V: number, C: number, L: number, rng: Rng) {
    super();
    this.wte = this.registerModule('wte', new Embedding(V, C, { rng }));
    this.h = this.registerModule('h', new ModuleList(Array.from({ length: L }, () => new Block(C, rng))));
  }
}

/** An output head tied to the embedding: the same tensor under a second name. */
class TiedHead extends Module {
  constructor(weight: Tensor) {
    super();
    this.registerParameter('weight', weight);
  }
}

class TinyLM extends Module {
  readonly transformer: Transformer;
  readonly scale: Tensor;
  constructor() {
    super();
    const rng = new Rng(1);
    this.scale = this.registerParameter('scale', new Tensor(Float32Array.of(1), [1]));
    this.transformer = this.registerModule('transformer', new Transformer(5, 2, 2, rng));
    this.registerModule('lm_head', new TiedHead(this.transformer.wte.weight));
  }
}

const NAMES = [
  'scale',
  'transformer.wte.weight',
  'transformer.h.0.ln_1.weight',
  'transformer.h.0.ln_1.bias',
  'transformer.h.0.attn.c_attn.weight',
  'transformer.h.0.attn.c_attn.bias',
  'transformer.h.0.attn.c_proj.weight',
  'transformer.h.1.ln_1.weight',
  'transformer.h.1.ln_1.bias',
  'transformer.h.1.attn.c_attn.weight',
  'transformer.h.1.attn.c_attn.bias',
  'transformer.h.1.attn.c_proj.weight',
];

test('Module: dotted names in registration order, own parameters first, lists as h.0, h.1', () => {
  const m = new TinyLM();
  assert.deepEqual(
    m.namedParameters().map(([n]) => n),
    NAMES,
  );
  assert.deepEqual(
    new TinyLM().namedParameters().map(([n]) => n),
    NAMES,
    'stable across instances',
  );
  assert.deepEqual(m.parameter('transformer.h.1.attn.c_attn.weight').shape, [6, 2]);
  assert.equal(m.parameters().length, NAMES.length);
  assert.ok(m.parameters().every((p) => p.requiresGrad));
  assert.equal(m.transformer.h.length, 2);
  assert.equal(m.transformer.h.at(1), [...m.transformer.h][1]);
  assert.deepEqual(
    m.transformer.namedChildren().map(([n]) => n),
    ['wte', 'h'],
  );
});

test('Module: a tied tensor is listed once, under its first name', () => {
  const m = new TinyLM();
  const names = m.namedParameters().map(([n]) => n);
  assert.ok(!names.includes('lm_head.weight'));
  // 1 + 5·2 + 2 × (2 + 2 + 6·2 + 6 + 2·2)
  assert.equal(m.numParameters(), 1 + 10 + 2 * 26);
});

test('Module: parameter() of an unknown name throws a ConfigError with near matches', () => {
  const m = new TinyLM();
  assert.throws(
    () => m.parameter('h.0.attn.c_attn.weight'),
    (e: Error) => e instanceof ConfigError && /transformer\.h\.0\.attn\.c_attn\.weight/.test(e.message),
  );
});

test('Module: train()/eval() propagate to every descendant', () => {
  const m = new TinyLM();
  assert.equal(m.transformer.h.at(0).attn.c_attn.training, true);
  m.eval();
  assert.equal(m.training, false);
  assert.equal(m.transformer.h.at(1).attn.c_proj.training, false);
  m.train();
  assert.equal(m.transformer.h.at(1).ln_1.training, true);
});

test('Module: stateDict/loadState round trip writes in place', () => {
  const a = new TinyLM();
  const b = new TinyLM();
  a.parameter('transformer.wte.weight').f32.fill(0.25);
  const before = b.parameter('transformer.wte.weight');
  const result = b.loadState(a.stateDict());
  assert.deepEqual(result, { missing: [], unexpected: [] });
  assert.equal(b.parameter('transformer.wte.weight'), before, 'same tensor, new values');
  for (const [n, t] of b.namedParameters()) assert.deepEqual(t.f32, a.parameter(n).f32, n);
  assert.deepEqual([...a.stateDict().keys()], NAMES);
});

test('Module: loadState names missing, unexpected and mis-sized tensors and writes nothing', () => {
  const m = new TinyLM();
  const snapshot = new Map([...m.stateDict()].map(([n, a]) => [n, a.slice()]));
  const state = new Map([...snapshot].map(([n, a]) => [n, new Float32Array(a.length).fill(9)]));
  state.delete('transformer.h.1.ln_1.bias');
  state.set('transformer.h.0.attn.c_attn.weight', new Float32Array(5));
  state.set('lm_head.bias', new Float32Array(5));
  assert.throws(
    () => m.loadState(state),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.includes('missing: transformer.h.1.ln_1.bias') &&
      e.message.includes('unexpected: lm_head.bias') &&
      e.message.includes('transformer.h.0.attn.c_attn.weight: expected (6, 2) = 12 values, found 5'),
  );
  for (const [n, t] of m.namedParameters()) assert.deepEqual(t.f32, snapshot.get(n), `${n} unchanged`);

  // Non-strict: missing and unexpected are reported; sizes are still checked.
  state.set('transformer.h.0.attn.c_attn.weight', new Float32Array(12).fill(9));
  const r = m.loadState(state, { strict: false });
  assert.deepEqual(r, { missing: ['transformer.h.1.ln_1.bias'], unexpected: ['lm_head.bias'] });
  assert.equal(m.parameter('scale').f32[0], 9);
});

test('Module: duplicate or malformed registrations are rejected', () => {
  class Bad extends Module {
    constructor(kind: 'dup' | 'dot') {
      super();
      const l = new Linear(1, 1, { rng: null });
      this.registerModule('a', l);
      if (kind === 'dup') this.registerParameter('a', l.weight);
      else this.registerModule('b.c', new Linear(1, 1, { rng: null }));
    }
  }
  assert.throws(() => new Bad('dup'), /already registered/);
  assert.throws(() => new Bad('dot'), /invalid module name "b.c"/);
  assert.throws(() => new ModuleList().at(0), /out of range/);
});
