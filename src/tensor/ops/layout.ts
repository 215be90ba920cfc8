/**
 * Layout primitives: reshape (a view), permute/transpose, slice (a view when the slice is one
 * contiguous run, i.e. every axis before the sliced one has size 1), concat and row gather.
 */
import { backend } from '../../backend/index.ts';
import { ShapeError } from '../../errors.ts';
import { empty } from '../alloc.ts';
import { record } from '../autograd.ts';
import { coalesce, contiguousStrides, fmt, normAxis, resolveReshape, type Shape, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';

/** Same values, new shape (one dim may be -1). Shares storage with x. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const to = resolveReshape('reshape', x.shape, shape);
  return record('reshape', new Tensor(x.data, to), [x], {});
}

/** Copy a strided view of `src` into a fresh contiguous tensor of `shape` (any dtype). */
function gatherStrided(src: Tensor, offset: number, strides: number[], shape: Shape): Tensor {
  const dst = src.dtype === 'int32' ? new Int32Array(sizeOf(shape)) : empty(sizeOf(shape));
  copyInto(src.data, offset, strides, dst, 0, contiguousStrides(shape), shape, false);
  return new Tensor(dst, shape);
}

/** Strided copy through the backend for float32, a plain loop for int32. */
export function copyInto(
  src: Float32Array | Int32Array,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: Float32Array | Int32Array,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: Shape,
  accumulate: boolean,
): void {
  if (sizeOf(shape) === 0) return;
  if (src instanceof Float32Array && dst instanceof Float32Array) {
    const it = coalesce(shape, [Int32Array.from(srcStrides), Int32Array.from(dstStrides)]);
    backend.copyStrided(src, srcOffset, it.strides[0], dst, dstOffset, it.strides[1], it.shape, accumulate);
    return;
  }
  const idx = new Array<number>(shape.length).fill(0);
  const n = sizeOf(shape);
  for (let e = 0; e < n; e++) {
    let s = srcOffset;
    let d = dstOffset;
    for (let k = 0; k < shape.length; k++) {
      s += idx[k] * srcStrides[k];
      d += idx[k] * dstStrides[k];
    }
    dst[d] = accumulate ? dst[d] + src[s] : src[s];
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
}

/** Reorder axes: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => normAxis('permute', a, x.ndim));
  if (p.length !== x.ndim || new Set(p).size !== p.length) {
    throw new ShapeError(`permute: [${perm}] is not a permutation of the axes of ${fmt(x.shape)}`);
  }
  const strides = contiguousStrides(x.shape);
  const out = gatherStrided(
    x,
    0,
    p.map((a) => strides[a]),
    p.map((a) => x.shape[a]),
  );
  return record('permute', out, [x], { perm: p });
}

/** Swap two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = Array.from({ length: x.ndim }, (_, i) => i);
  const i = normAxis('transpose', a, x.ndim);
  const j = normAxis('transpose', b, x.ndim);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/**
 * x[..., start:end, ...] along one axis (negative indices count from the end; clamped like Python).
 * Shares x's storage when the result is contiguous in it (see the file header), as reshape does.
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis('slice', axis, x.ndim);
  const n = x.shape[ax];
  const clamp = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const s = clamp(start);
  const e = Math.max(s, clamp(end ?? n));
  const shape = [...x.shape];
  shape[ax] = e - s;
  const strides = contiguousStrides(x.shape);
  // With only size-1 axes before `axis` the slice is one contiguous run: a view, no copy.
  const out = x.shape.slice(0, ax).every((d) => d === 1)
    ? new Tensor(x.data.subarray(s * strides[ax], e * strides[ax]), shape)
    : gatherStrided(x, s * strides[ax], strides, shape);
  return record('slice', out, [x], { axis: ax, start: s });
}

/** Join tensors of equal shape except along `axis`. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: no tensors given');
  const first = xs[0];
  const ax = normAxis('concat', axis, first.ndim);
  for (const t of xs) {
    const ok =
      t.ndim === first.ndim &&
      t.dtype === first.dtype &&
      t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok)
      throw new ShapeError(`concat: ${fmt(t.shape)} does not match ${fmt(first.shape)} outside axis ${ax}`);
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((p, t) => p + t.shape[ax], 0);
  const outStrides = contiguousStrides(shape);
  const data = first.dtype === 'int32' ? new Int32Array(sizeOf(shape)) : empty(sizeOf(shape));
  let offset = 0;
  for (const t of xs) {
    copyInto(
      t.data,
      0,
      contiguousStrides(t.shape),
      data,
      offset * outStrides[ax],
      outStrides,
      t.shape,
      false,
    );
    offset += t.shape[ax];
  }
  return record('concat', new Tensor(data, shape), [...xs], { axis: ax });
}

/** Rows of `table` (V, …) picked by integer `indices` (any shape): out is (...indices.shape, …). */
export function gather(table: Tensor, indices: Tensor): Tensor {
  if (indices.dtype !== 'int32') throw new ShapeError('gather: indices must be an int32 tensor');
  if (table.dtype !== 'float32' || table.ndim < 1)
    throw new ShapeError('gather: table must be a float32 tensor');
  const rows = table.shape[0];
  const idx = indices.i32;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= rows) {
      throw new ShapeError(`gather: index ${idx[i]} at position ${i} is out of range [0, ${rows})`, {
        hint: 'token ids must be below the vocabulary size',
      });
    }
  }
  const cols = sizeOf(table.shape.slice(1));
  const out = empty(idx.length * cols);
  backend.gather(table.f32, idx, out, cols);
  return record('gather', new Tensor(out, [...indices.shape, ...table.shape.slice(1)]), [table, indices], {});
}
