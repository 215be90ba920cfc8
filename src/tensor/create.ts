/** Tensor constructors: from values, filled, random (seeded) and ranges. */
import { ShapeError } from '../errors.ts';
import type { Rng } from './rng.ts';
import { checkShape, type Shape, sizeOf } from './shape.ts';
import { type NestedArray, Tensor } from './tensor.ts';

export interface CreateOptions {
  requiresGrad?: boolean;
  dtype?: 'float32' | 'int32';
}

function flatten(values: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (typeof values === 'number') {
    if (depth !== shape.length) throw new ShapeError('tensor: ragged nested array');
    out.push(values);
    return;
  }
  if (depth === shape.length) shape.push(values.length);
  else if (shape[depth] !== values.length) throw new ShapeError('tensor: ragged nested array');
  for (const v of values) flatten(v, shape, depth + 1, out);
}

/** A tensor from nested arrays, a flat array with a shape, or a typed array with a shape. */
export function tensor(
  values: NestedArray | Float32Array | Int32Array | readonly number[],
  shape?: Shape,
  opts: CreateOptions = {},
): Tensor {
  let data: Float32Array | Int32Array;
  let dims: number[];
  if (values instanceof Float32Array || values instanceof Int32Array) {
    data = values;
    dims = shape ? [...shape] : [values.length];
  } else {
    const flat: number[] = [];
    const inferred: number[] = [];
    flatten(values as NestedArray, inferred, 0, flat);
    dims = shape ? [...shape] : inferred;
    data = opts.dtype === 'int32' ? Int32Array.from(flat) : Float32Array.from(flat);
  }
  return new Tensor(data, dims, opts.requiresGrad ?? false);
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const data = opts.dtype === 'int32' ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

export const zeros = (shape: Shape, opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: Shape, opts: CreateOptions = {}): Tensor => full(shape, 1, opts);

/** Normal(mean, std) samples from a seeded generator. */
export function randn(shape: Shape, rng: Rng, std = 1, mean = 0, opts: CreateOptions = {}): Tensor {
  checkShape('randn', shape);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/** Uniform [lo, hi) samples from a seeded generator. */
export function rand(shape: Shape, rng: Rng, lo = 0, hi = 1, opts: CreateOptions = {}): Tensor {
  checkShape('rand', shape);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rng.uniform();
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/** [start, end) with a step, as int32 (default) or float32. */
export function arange(start: number, end: number, step = 1, dtype: 'float32' | 'int32' = 'int32'): Tensor {
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}
