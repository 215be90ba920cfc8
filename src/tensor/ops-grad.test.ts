/**
 * Every differentiable primitive: autograd gradients against central finite differences, on
 * the js reference backend and on the native backend. Tolerance: |analytic − numeric| ≤
 * 1e-2 + 1e-2·|numeric| with step 1e-2 (float32 differences of O(1) objectives).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../backend/index.ts';
import { jsBackend, nativeBackend, useBackend } from '../backend/index.ts';
import { gradCheck } from './grad-check.ts';
import * as T from './index.ts';
import { IGNORE_INDEX, Rng, type Tensor } from './index.ts';

const rng = new Rng(42);
const r = (shape: number[], lo = -1, hi = 1) => T.rand(shape, rng, lo, hi);
const ids = (values: number[], shape = [values.length]) => T.tensor(Int32Array.from(values), shape);

// Inputs are kept away from kinks (relu/abs at 0, maximum ties) so differences are smooth.
const cases: [string, () => Tensor[], (...xs: Tensor[]) => Tensor][] = [
  ['add broadcast', () => [r([2, 3, 4]), r([3, 1])], (a, b) => T.add(a, b)],
  ['sub broadcast', () => [r([2, 1, 4]), r([3, 4])], (a, b) => T.sub(a, b)],
  ['mul broadcast', () => [r([2, 3]), r([3])], (a, b) => T.mul(a, b)],
  ['div', () => [r([2, 3]), r([2, 3], 0.5, 2)], (a, b) => T.div(a, b)],
  [
    'maximum',
    () => [
      T.tensor([
        [0.5, -1, 2],
        [0.1, 0.9, -0.4],
      ]),
      T.tensor([[0.2, 0.3, 1]]),
    ],
    (a, b) => T.maximum(a, b),
  ],
  ['pow tensor^tensor', () => [r([2, 3], 0.5, 2), r([2, 3], -1, 2)], (a, b) => T.pow(a, b)],
  ['pow tensor^scalar', () => [r([5], 0.5, 2)], (a) => T.pow(a, 3)],
  ['neg', () => [r([4])], (a) => T.neg(a)],
  ['exp', () => [r([4])], (a) => T.exp(a)],
  ['log', () => [r([4], 0.5, 3)], (a) => T.log(a)],
  ['sqrt', () => [r([4], 0.5, 3)], (a) => T.sqrt(a)],
  ['tanh', () => [r([4], -2, 2)], (a) => T.tanh(a)],
  ['relu', () => [T.tensor([-1.5, -0.3, 0.4, 2])], (a) => T.relu(a)],
  ['sigmoid', () => [r([4], -3, 3)], (a) => T.sigmoid(a)],
  ['abs', () => [T.tensor([-1.5, -0.3, 0.4, 2])], (a) => T.abs(a)],
  ['silu', () => [r([6], -3, 3)], (a) => T.silu(a)],
  ['gelu tanh', () => [r([6], -3, 3)], (a) => T.gelu(a, 'tanh')],
  ['gelu erf', () => [r([6], -3, 3)], (a) => T.gelu(a, 'none')],
  ['affine', () => [r([3])], (a) => T.affine(a, -2.5, 0.5)],
  [
    'where',
    () => [r([2, 3]), r([3])],
    (a, b) =>
      T.where(
        T.tensor([
          [1, 0, 1],
          [0, 0, 1],
        ]),
        a,
        b,
      ),
  ],
  ['sum axes', () => [r([2, 3, 4])], (a) => T.sum(a, [0, 2])],
  ['sum keepdim', () => [r([2, 3, 4])], (a) => T.sum(a, 1, true)],
  ['mean', () => [r([2, 3, 4])], (a) => T.mean(a, -1)],
  [
    'max',
    () => [
      T.tensor([
        [0.1, 0.9, -0.5],
        [1.2, -0.3, 0.6],
      ]),
    ],
    (a) => T.max(a, 1),
  ],
  ['max over all with a tie', () => [T.tensor([0.7, 0.2, 0.7])], (a) => T.max(a)],
  ['expand', () => [r([3, 1])], (a) => T.expand(a, [2, 3, 4])],
  ['matmul NN', () => [r([3, 4]), r([4, 5])], (a, b) => T.matmul(a, b)],
  ['matmul NT', () => [r([3, 4]), r([5, 4])], (a, b) => T.matmul(a, b, { transB: true })],
  ['matmul TN', () => [r([4, 3]), r([4, 5])], (a, b) => T.matmul(a, b, { transA: true })],
  ['matmul TT', () => [r([4, 3]), r([5, 4])], (a, b) => T.matmul(a, b, { transA: true, transB: true })],
  ['matmul batched', () => [r([2, 3, 4]), r([2, 4, 2])], (a, b) => T.matmul(a, b)],
  ['matmul folded weight', () => [r([2, 3, 4]), r([5, 4])], (a, b) => T.matmul(a, b, { transB: true })],
  ['matmul broadcast batch', () => [r([2, 1, 3, 4]), r([1, 2, 4, 2])], (a, b) => T.matmul(a, b)],
  ['matmul 2-D left', () => [r([3, 4]), r([2, 4, 2])], (a, b) => T.matmul(a, b)],
  ['linear', () => [r([2, 3, 4]), r([4, 5]), r([5])], (x, w, b) => T.linear(x, w, b)],
  ['linear transB', () => [r([3, 4]), r([5, 4]), r([5])], (x, w, b) => T.linear(x, w, b, { transB: true })],
  ['reshape', () => [r([2, 6])], (a) => T.reshape(a, [3, -1]).mul(T.exp(T.reshape(a, [3, 4])))],
  ['permute', () => [r([2, 3, 4])], (a) => T.permute(a, [2, 0, 1])],
  ['slice', () => [r([4, 5])], (a) => T.slice(a, 1, 1, -1)],
  ['concat', () => [r([2, 3]), r([2, 2])], (a, b) => T.concat([a, b], 1)],
  ['gather repeated', () => [r([5, 3])], (t) => T.gather(t, ids([4, 0, 4, 2], [2, 2]))],
  ['softmax', () => [r([3, 5], -2, 2)], (a) => T.softmax(a)],
  ['logSoftmax', () => [r([3, 5], -2, 2)], (a) => T.logSoftmax(a)],
  [
    'crossEntropy mean with ignore',
    () => [r([4, 6], -2, 2)],
    (a) => T.crossEntropy(a, ids([1, IGNORE_INDEX, 5, 0])),
  ],
  [
    'crossEntropy none',
    () => [r([2, 2, 6], -2, 2)],
    (a) => T.crossEntropy(a, ids([1, 3, 5, 0], [2, 2]), { reduction: 'none' }),
  ],
  ['layerNorm', () => [r([3, 6], -2, 2), r([6], 0.5, 1.5), r([6])], (x, w, b) => T.layerNorm(x, w, b)],
  ['layerNorm no bias', () => [r([3, 6], -2, 2), r([6], 0.5, 1.5)], (x, w) => T.layerNorm(x, w, null)],
  ['rmsNorm', () => [r([3, 6], -2, 2), r([6], 0.5, 1.5)], (x, w) => T.rmsNorm(x, w)],
  ['rope', () => [r([2, 3, 4, 6])], (x) => T.rope(x, T.ropeTables([0, 1, 2, 5], 6, 100))],
  [
    'attention causal',
    () => [r([1, 2, 3, 4]), r([1, 2, 3, 4]), r([1, 2, 3, 4])],
    (q, k, v) => T.attention(q, k, v, { causal: true }),
  ],
  [
    'attention GQA, tq < tk, mask',
    () => [r([2, 4, 2, 3]), r([2, 2, 3, 3]), r([2, 2, 3, 3])],
    (q, k, v) =>
      T.attention(q, k, v, {
        causal: true,
        mask: T.tensor([0, 0, -1e9, 0, 0, 0, 0, 0, 0, 0, 0, 0], [2, 1, 2, 3]),
      }),
  ],
  ['dropout', () => [r([8])], (x) => T.dropout(x, 0.5, new Rng(3), true)],
];

const backends: [string, () => Backend][] = [
  ['js', () => jsBackend],
  ['native', () => nativeBackend()],
];

for (const [backendName, get] of backends) {
  describe(`gradients on ${backendName}`, () => {
    for (const [name, make, fn] of cases) {
      test(name, () => {
        useBackend(get());
        try {
          const { maxError, where } = gradCheck(fn, make());
          assert.ok(maxError <= 1, `${name}: ${where} (error ratio ${maxError})`);
        } finally {
          useBackend(jsBackend);
        }
      });
    }
  });
}
