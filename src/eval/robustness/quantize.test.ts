/**
 * Fake quantisation: the grid and error bound on random matrices, and the attack on a model.
 * Tolerances: |w − ŵ| ≤ s/2 is exact in real arithmetic; the float32 result may add one float32
 * rounding of ŵ, so the check allows s/2 + 2^-23·|ŵ| + 1e-12. "On the grid" means ŵ/s is within
 * 1e-4 of an integer (float32 rounding of the product only).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitNll, tinyWorld } from '../../../test/helpers/unlearn-world.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { Rng } from '../../tensor/index.ts';
import { fakeQuantize, type QuantizeOptions, quantizableWeights, quantizeMatrix } from './quantize.ts';

const F32_EPS = 2 ** -23;

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  // Rows of different magnitudes, so per-channel and per-tensor scales differ.
  return Float32Array.from({ length: rows * cols }, (_, i) => rng.normal() * (1 + Math.floor(i / cols)));
}

const snapshot = (m: CausalLM) => new Map(m.namedParameters().map(([n, p]) => [n, p.f32.slice()]));

function assertBitIdentical(m: CausalLM, snap: Map<string, Float32Array>, what: string): void {
  for (const [n, p] of m.namedParameters()) {
    const a = Buffer.from(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength);
    const b = snap.get(n)!;
    assert.ok(a.equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)), `${what}: ${n} changed`);
  }
}

/** Check error bound, grid membership and code range of one quantised matrix. */
function checkGrid(
  w: Float32Array,
  rows: number,
  cols: number,
  axis: 0 | 1,
  opts: QuantizeOptions,
): { meanAbsError: number } {
  const r = quantizeMatrix(w, rows, cols, axis, opts);
  const perTensor = opts.granularity === 'per-tensor';
  const symmetric = opts.symmetric ?? true;
  const qmax = symmetric ? 2 ** (opts.bits - 1) - 1 : 2 ** opts.bits - 1;
  let err = 0;
  for (let i = 0; i < w.length; i++) {
    const c = perTensor ? 0 : axis === 0 ? Math.floor(i / cols) : i % cols;
    const s = r.scales[c];
    const e = Math.abs(w[i] - r.values[i]);
    err += e;
    assert.ok(
      e <= s / 2 + F32_EPS * Math.abs(r.values[i]) + 1e-12,
      `element ${i}: |w − q(w)| = ${e} > s/2 = ${s / 2}`,
    );
    const k = r.values[i] / s;
    assert.ok(
      Math.abs(k - Math.round(k)) < 1e-4,
      `element ${i}: ${r.values[i]} is not on the grid of step ${s}`,
    );
    assert.equal(Math.round(k), r.codes[i] - r.zeroPoints[c]);
    assert.ok(r.codes[i] >= (symmetric ? -qmax : 0) && r.codes[i] <= qmax, `code ${r.codes[i]} out of range`);
  }
  return { meanAbsError: err / w.length };
}

test('int8 and int4 grids: error ≤ scale/2, values on the grid, codes in range', () => {
  const [rows, cols] = [6, 40];
  const w = randomMatrix(rows, cols, 1);
  for (const bits of [8, 4] as const)
    for (const granularity of ['per-channel', 'per-tensor'] as const)
      for (const symmetric of [true, false])
        for (const axis of [0, 1] as const) checkGrid(w, rows, cols, axis, { bits, granularity, symmetric });
});

test('symmetric per-channel scale is max|w|/(2^(b−1)−1) of each output channel', () => {
  const [rows, cols] = [5, 12];
  const w = randomMatrix(rows, cols, 2);
  const byRow = quantizeMatrix(w, rows, cols, 0, { bits: 8 });
  for (let r = 0; r < rows; r++) {
    const maxAbs = Math.max(...w.subarray(r * cols, (r + 1) * cols).map(Math.abs));
    assert.equal(byRow.scales[r], Math.fround(maxAbs / 127));
  }
  const byCol = quantizeMatrix(w, rows, cols, 1, { bits: 4 });
  assert.equal(byCol.scales.length, cols);
  for (let c = 0; c < cols; c++) {
    let maxAbs = 0;
    for (let r = 0; r < rows; r++) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + c]));
    assert.equal(byCol.scales[c], Math.fround(maxAbs / 7));
  }
  assert.equal(quantizeMatrix(w, rows, cols, 0, { bits: 8, granularity: 'per-tensor' }).scales.length, 1);
});

test('int4 error is larger than int8 error; per-tensor larger than per-channel', () => {
  const [rows, cols] = [8, 64];
  const w = randomMatrix(rows, cols, 3);
  const e8 = checkGrid(w, rows, cols, 0, { bits: 8 }).meanAbsError;
  const e4 = checkGrid(w, rows, cols, 0, { bits: 4 }).meanAbsError;
  const e8t = checkGrid(w, rows, cols, 0, { bits: 8, granularity: 'per-tensor' }).meanAbsError;
  assert.ok(e4 > 4 * e8, `int4 ${e4} vs int8 ${e8}`); // ideally ~18× (127/7)
  assert.ok(e8t > e8, `per-tensor ${e8t} vs per-channel ${e8}`);
});

test('edge cases: zeros stay zero, exact grid points are kept, ties round to even', () => {
  const z = quantizeMatrix(new Float32Array([0, 0, 0, 1, -2, 0.5]), 2, 3, 0, { bits: 8 });
  assert.deepEqual([...z.values.subarray(0, 3)], [0, 0, 0]);
  assert.equal(z.scales[0], 0);
  assert.equal(z.values[4], -2); // a channel's extreme value is a grid point (±127·s)
  // The affine grid's range includes 0, so 0 stays exactly 0.
  const a = quantizeMatrix(new Float32Array([0, 1, 3]), 1, 3, 0, { bits: 4, symmetric: false });
  assert.equal(a.values[0], 0);
  // s = 7/7 = 1: 0.5 → 0, 1.5 → 2, 2.5 → 2, −2.5 → −2 (half to even), 7 stays 7.
  const t = quantizeMatrix(new Float32Array([0.5, 1.5, 2.5, -2.5, 7]), 1, 5, 0, { bits: 4 });
  assert.deepEqual([...t.codes], [0, 2, 2, -2, 7]);
  assert.throws(() => quantizeMatrix(new Float32Array([Number.NaN]), 1, 1, 0, { bits: 8 }), /non-finite/);
  assert.throws(() => quantizeMatrix(new Float32Array(3), 1, 1, 0, { bits: 8 }), /shape/);
  assert.throws(() => quantizeMatrix(new Float32Array(1), 1, 1, 0, { bits: 3 as 8 }), /bits/);
});

test('fakeQuantize on a model: linear/embedding weights on the grid, the rest untouched, input unchanged', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  const before = snapshot(model);
  const weights = quantizableWeights(model);
  const names = weights.map((w) => w.name);
  // GPT-2: wte (also the tied head, listed once), wpe, and 4 Conv1D per block.
  assert.deepEqual(names.slice(0, 2), ['transformer.wte.weight', 'transformer.wpe.weight']);
  assert.equal(names.length, 2 + 4 * model.numLayers);
  assert.ok(weights.filter((w) => /c_attn|c_fc|c_proj/.test(w.name)).every((w) => w.channelAxis === 1));

  const errors: Record<number, number> = {};
  for (const bits of [8, 4] as const) {
    const q = fakeQuantize(model, { bits });
    assert.notEqual(q, model);
    assertBitIdentical(model, before, `after int${bits}`);
    const quantized = new Set(names);
    let err = 0;
    let count = 0;
    for (const [n, p] of q.namedParameters()) {
      const orig = before.get(n)!;
      if (!quantized.has(n)) {
        // Biases and LayerNorm parameters stay float32, bit for bit.
        assert.deepEqual(p.f32, orig, `${n} should be left unquantised`);
        continue;
      }
      const w = weights.find((x) => x.name === n)!;
      const [rows, cols] = p.shape;
      const expected = quantizeMatrix(orig, rows, cols, w.channelAxis, { bits });
      assert.deepEqual(p.f32, expected.values, `${n} is not the per-channel int${bits} grid`);
      checkGrid(orig, rows, cols, w.channelAxis, { bits });
      for (let i = 0; i < orig.length; i++) err += Math.abs(orig[i] - p.f32[i]);
      count += orig.length;
    }
    errors[bits] = err / count;
    // Independent copy: writing into the clone never reaches the input.
    q.namedParameters()[0][1].f32.fill(123);
    assertBitIdentical(model, before, `after writing into the int${bits} clone`);
  }
  assert.ok(errors[4] > 4 * errors[8], `int4 error ${errors[4]} vs int8 ${errors[8]}`);

  // int8 barely moves a memorised model (mean answer NLL within 0.01 nats of the original).
  const base = splitNll(model, tokenizer, task, 'forget');
  const q8 = splitNll(fakeQuantize(model, { bits: 8 }), tokenizer, task, 'forget');
  assert.ok(Math.abs(q8 - base) < 0.01, `int8 forget NLL ${q8} vs ${base}`);
});

test('fakeQuantize: exclude keeps matching weights in float32; deterministic', async () => {
  const { model } = await tinyWorld();
  const a = fakeQuantize(model, { bits: 4, exclude: /wpe/ });
  const b = fakeQuantize(model, { bits: 4, exclude: /wpe/ });
  assert.deepEqual(a.parameter('transformer.wpe.weight').f32, model.parameter('transformer.wpe.weight').f32);
  assert.notDeepEqual(
    a.parameter('transformer.wte.weight').f32,
    model.parameter('transformer.wte.weight').f32,
  );
  for (const [n, p] of a.namedParameters()) assert.deepEqual(p.f32, b.parameter(n).f32);
  assert.throws(() => fakeQuantize(model, { bits: 8, exclude: /./ }), /no linear or embedding weight/);
});
