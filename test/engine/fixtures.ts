/**
 * Loading and comparing the PyTorch reference fixtures in test/fixtures/engine/ (written by
 * scripts/make-fixtures.py; see its header for the encoding). Not a test file itself.
 * Promise: tensors decode to fresh, aligned arrays (safe to make trainable and to mutate), and
 * every comparison reports the worst element with its index and both values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend } from '../../src/backend/index.ts';
import { Tensor } from '../../src/tensor/index.ts';

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'engine');

/** A tensor as stored: row-major little-endian float32/int32 bytes in base64. */
export interface EncodedTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: string;
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8')) as T;
}

/** Decode a stored tensor into a new Tensor (a copy: Buffer's pooled memory may be unaligned). */
export function decode(t: EncodedTensor, requiresGrad = false): Tensor {
  const bytes = Buffer.from(t.data, 'base64');
  const copy = new Uint8Array(bytes); // own, 0-offset ArrayBuffer
  const data = t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  return new Tensor(data, t.shape, requiresGrad);
}

/** max |actual − expected| / max |expected| (or the plain max error when expected is all zero). */
export function relMaxErr(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): { err: number; at: number } {
  assert.equal(actual.length, expected.length, 'length');
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let err = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= err)) {
      // NaN in actual lands here and stays: NaN is never <= anything.
      err = e;
      at = i;
      if (Number.isNaN(e)) break;
    }
  }
  return { err: scale > 0 ? err / scale : err, at };
}

/** Assert relMaxErr <= tol and return the error (the tests log the worst one they saw). */
export function assertRelClose(actual: Tensor, expected: Tensor, tol: number, what: string): number {
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  const { err, at } = relMaxErr(actual.data, expected.data);
  assert.ok(
    err <= tol,
    `${what}: max abs error / max |expected| = ${err.toExponential(3)} > ${tol} ` +
      `(worst at flat index ${at}: got ${actual.data[at]}, expected ${expected.data[at]})`,
  );
  return err;
}

/** Elementwise |a − e| <= atol + rtol·|e|; returns the worst ratio error / allowance (<= 1 passes). */
export function assertElementwiseClose(
  actual: Tensor,
  expected: Tensor,
  atol: number,
  rtol: number,
  what: string,
): number {
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    const ratio = Math.abs(a - e) / (atol + rtol * Math.abs(e));
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
      if (Number.isNaN(ratio)) break;
    }
  }
  assert.ok(
    worst <= 1,
    `${what}: element ${at}: got ${actual.data[at]}, expected ${expected.data[at]} ` +
      `(|err| = ${Math.abs(actual.data[at] - expected.data[at]).toExponential(3)}, allowed ${atol} + ${rtol}·|expected|)`,
  );
  return worst;
}

/** Which backend the engine runs on in this process (for test names and logs). */
export function backendName(): string {
  return backend.name;
}
