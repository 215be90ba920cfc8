/** Reductions (sum, max, mean) over any set of axes, broadcast expansion and its adjoint sumTo. */
import { backend, reduceCode } from '../../backend/index.ts';
import { ShapeError } from '../../errors.ts';
import { empty } from '../alloc.ts';
import { record } from '../autograd.ts';
import {
  broadcastShapes,
  broadcastStrides,
  coalesce,
  fmt,
  normAxes,
  type Shape,
  sameShape,
  sizeOf,
} from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { affine } from './elementwise.ts';
import { reshape } from './layout.ts';

/** Reduce the listed (sorted) axes with one kernel call per run of consecutive axes. */
function reduceRaw(op: 'sum' | 'max', x: Tensor, axes: number[]): { data: Float32Array; shape: number[] } {
  let data = x.f32;
  const shape = [...x.shape];
  // From the last run to the first, so earlier axis numbers stay valid.
  let i = axes.length - 1;
  while (i >= 0) {
    let j = i;
    while (j > 0 && axes[j - 1] === axes[j] - 1) j--;
    const first = axes[j];
    const last = axes[i];
    const outer = sizeOf(shape.slice(0, first));
    const r = sizeOf(shape.slice(first, last + 1));
    const inner = sizeOf(shape.slice(last + 1));
    const out = empty(outer * inner);
    backend.reduce(reduceCode(op), data, out, outer, r, inner);
    data = out;
    for (let a = first; a <= last; a++) shape[a] = 1;
    i = j - 1;
  }
  return { data, shape };
}

function reduce(
  op: 'sum' | 'max',
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepdim: boolean,
): Tensor {
  if (x.dtype !== 'float32') throw new ShapeError(`${op}: expected a float32 tensor`);
  const ax = normAxes(op, axes, x.ndim);
  const { data, shape } = reduceRaw(op, x, ax);
  const outShape = keepdim ? shape : shape.filter((_, i) => !ax.includes(i));
  return record(op, new Tensor(data, outShape), [x], { axes: ax, keepdim });
}

/** Sum over axes (all by default). */
export const sum = (x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor =>
  reduce('sum', x, axes, keepdim);

/** Maximum over axes (all by default); NaN propagates. Ties share the gradient equally. */
export const max = (x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor =>
  reduce('max', x, axes, keepdim);

/** Mean over axes (all by default). The mean of zero elements is NaN, as in PyTorch. */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes('mean', axes, x.ndim);
  const n = ax.reduce((p, a) => p * x.shape[a], 1);
  return affine(sum(x, ax, keepdim), n === 0 ? Number.NaN : 1 / n);
}

/** Broadcast x to `shape` (NumPy rules), materialising the copy. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape))
    throw new ShapeError(`expand: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  if (sameShape(x.shape, shape)) return x;
  const out = empty(sizeOf(shape));
  const it = coalesce(shape, [broadcastStrides(x.shape, shape), broadcastStrides(shape, shape)]);
  backend.copyStrided(x.f32, 0, it.strides[0], out, 0, it.strides[1], it.shape, false);
  return record('expand', new Tensor(out, shape), [x], {});
}

/** Sum a broadcast result back down to `shape` (the adjoint of expand). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.ndim - shape.length;
  if (lead < 0) throw new ShapeError(`sumTo: cannot reduce ${fmt(x.shape)} to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.ndim; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && x.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== x.shape[i])
      throw new ShapeError(`sumTo: cannot reduce ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  return reshape(sum(x, axes, true), shape);
}
