/** Helpers shared by the nn tests: tolerant array comparison and parameter construction. */
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/index.ts';

/** |actual[i] − expected[i]| <= tol for every i (and equal lengths). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: readonly number[],
  tol: number,
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= tol, `${what}[${i}]: ${actual[i]} vs expected ${expected[i]} (|diff| ${d} > ${tol})`);
  }
}

/** A leaf parameter (requiresGrad) holding `values` in `shape` (1-D by default). */
export function param(values: number[], shape: number[] = [values.length]): Tensor {
  return new Tensor(Float32Array.from(values), shape, true);
}

/** Set a parameter's gradient directly (what backward() would have accumulated). */
export function setGrad(p: Tensor, values: number[]): void {
  p.grad = new Tensor(Float32Array.from(values), p.shape);
}
