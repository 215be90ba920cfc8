/**
 * Shape arithmetic: sizes, contiguous strides, broadcasting and axis normalisation. Every
 * failure is a ShapeError naming the op and the shapes involved.
 */
import { ShapeError } from '../errors.ts';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export const fmt = (shape: Shape): string => `[${shape.join(', ')}]`;

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: invalid shape ${fmt(shape)}`, { expected: 'non-negative integer dims' });
    }
  }
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`, {
        hint: `dimension ${i} of the broadcast result has sizes ${da} and ${db}`,
      });
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Element strides of a contiguous tensor of shape `from` read as the broadcast shape `to` (0 = broadcast). */
export function broadcastStrides(from: Shape, to: Shape): Int32Array {
  const strides = contiguousStrides(from);
  const out = new Int32Array(to.length);
  const offset = to.length - from.length;
  for (let i = 0; i < from.length; i++)
    out[offset + i] = from[i] === 1 && to[offset + i] !== 1 ? 0 : strides[i];
  return out;
}

/** Normalise a possibly negative axis against ndim. */
export function normAxis(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${ndim}`);
  }
  return a;
}

/** Normalise and sort a list of axes (undefined = all axes). Duplicates are an error. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(op, a, ndim));
  const sorted = [...new Set(list)].sort((x, y) => x - y);
  if (sorted.length !== list.length) throw new ShapeError(`${op}: repeated axis in [${axes}]`);
  return sorted;
}

/** Resolve one -1 in a target shape of a reshape. */
export function resolveReshape(op: string, from: Shape, to: readonly number[]): number[] {
  const size = sizeOf(from);
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`${op}: more than one -1 in ${fmt(to)}`);
  const known = to.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = to.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (sizeOf(out) !== size || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: cannot reshape ${fmt(from)} (${size} elements) to ${fmt(to)}`);
  }
  return out;
}

/**
 * Canonical iteration space for strided kernels: drops size-1 dims and merges neighbouring dims
 * that every operand walks contiguously, so (B,T,C)+(C) reaches the kernel as (B·T, C) + row.
 * Always returns at least one dim.
 */
export function coalesce(shape: Shape, strides: Int32Array[]): { shape: Int32Array; strides: Int32Array[] } {
  const dims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * shape[i])) {
      dims[last] *= shape[i];
      strides.forEach((s, k) => {
        outStrides[k][last] = s[i];
      });
    } else {
      dims.push(shape[i]);
      strides.forEach((s, k) => {
        outStrides[k].push(s[i]);
      });
    }
  }
  if (dims.length === 0)
    return {
      shape: Int32Array.of(sizeOf(shape) === 0 ? 0 : 1),
      strides: strides.map(() => Int32Array.of(1)),
    };
  return { shape: Int32Array.from(dims), strides: outStrides.map((s) => Int32Array.from(s)) };
}
