/**
 * The gradient table: one entry per primitive, mapping the output gradient to the inputs'
 * gradients. Its type is a mapped type over the primitive union, so a missing entry does not
 * compile. Entries use public ops; fused ops call their backward kernel.
 */
import { backend } from '../backend/index.ts';
import { empty, zeros } from './alloc.ts';
import { type GradTable, registerGradients } from './autograd.ts';
import {
  addInPlace,
  affine,
  div,
  eq,
  gt,
  log,
  mul,
  neg,
  pow,
  sub,
  unaryBackward,
  where,
} from './ops/elementwise.ts';
import { copyInto, permute, reshape, slice } from './ops/layout.ts';
import { matmulGrads } from './ops/matmul.ts';
import { expand, sum, sumTo } from './ops/reduce.ts';
import type { OpAttrs } from './primitives.ts';
import { contiguousStrides, sizeOf } from './shape.ts';
import { Tensor } from './tensor.ts';

const rowsOf = (t: Tensor): number => (t.shape[t.ndim - 1] === 0 ? 0 : t.size / t.shape[t.ndim - 1]);
const colsOf = (t: Tensor): number => t.shape[t.ndim - 1];
/** A gradient buffer the kernel overwrites completely. */
const emptyLike = (t: Tensor): Tensor => new Tensor(empty(t.size), t.shape);
/** A gradient buffer the kernel accumulates into. */
const zerosLike = (t: Tensor): Tensor => new Tensor(zeros(t.size), t.shape);

/** Re-insert reduced axes as size 1 so a reduction's result broadcasts against its input. */
function keepDims(y: Tensor, axes: number[], keepdim: boolean, ndim: number): Tensor {
  if (keepdim) return y;
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < ndim; i++) shape.push(axes.includes(i) ? 1 : y.shape[j++]);
  return reshape(y, shape);
}

export const gradients: GradTable = {
  add: (dy, { inputs: [a, b] }) => [sumTo(dy, a.shape), sumTo(dy, b.shape)],
  sub: (dy, { inputs: [a, b] }) => [sumTo(dy, a.shape), b.requiresGrad ? sumTo(neg(dy), b.shape) : null],
  mul: (dy, { inputs: [a, b] }) => [
    a.requiresGrad ? sumTo(mul(dy, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(dy, a), b.shape) : null,
  ],
  div: (dy, { inputs: [a, b] }, out) => [
    a.requiresGrad ? sumTo(div(dy, b), a.shape) : null,
    b.requiresGrad ? sumTo(neg(div(mul(dy, out), b)), b.shape) : null,
  ],
  maximum: (dy, { inputs: [a, b] }) => {
    const bWins = gt(b, a); // a >= b sends the gradient to a (ties included)
    return [
      a.requiresGrad ? sumTo(where(bWins, 0, dy), a.shape) : null,
      b.requiresGrad ? sumTo(where(bWins, dy, 0), b.shape) : null,
    ];
  },
  pow: (dy, { inputs: [a, b] }, out) => [
    a.requiresGrad ? sumTo(mul(dy, mul(b, pow(a, sub(b, 1)))), a.shape) : null,
    b.requiresGrad ? sumTo(mul(dy, mul(out, log(a))), b.shape) : null,
  ],
  neg: (dy) => [neg(dy)],
  exp: (dy, _n, out) => [mul(dy, out)],
  log: (dy, { inputs: [x] }) => [div(dy, x)],
  sqrt: (dy, _n, out) => [div(affine(dy, 0.5), out)],
  tanh: (dy, { inputs: [x] }) => [unaryBackward('tanh', x, dy)],
  relu: (dy, { inputs: [x] }) => [unaryBackward('relu', x, dy)],
  sigmoid: (dy, { inputs: [x] }) => [unaryBackward('sigmoid', x, dy)],
  abs: (dy, { inputs: [x] }) => [unaryBackward('abs', x, dy)],
  silu: (dy, { inputs: [x] }) => [unaryBackward('silu', x, dy)],
  gelu: (dy, { inputs: [x], attrs }) => [
    unaryBackward(attrs.approximate === 'tanh' ? 'gelu_tanh' : 'gelu_erf', x, dy),
  ],
  affine: (dy, { attrs }) => [affine(dy, attrs.scale, 0)],
  where: (dy, { inputs: [cond, a, b] }) => [
    null,
    a.requiresGrad ? sumTo(where(cond, dy, 0), a.shape) : null,
    b.requiresGrad ? sumTo(where(cond, 0, dy), b.shape) : null,
  ],
  sum: (dy, { inputs: [x], attrs }) => [expand(keepDims(dy, attrs.axes, attrs.keepdim, x.ndim), x.shape)],
  max: (dy, { inputs: [x], attrs }, out) => {
    const top = keepDims(out, attrs.axes, attrs.keepdim, x.ndim);
    const hits = eq(x, top);
    const share = div(keepDims(dy, attrs.axes, attrs.keepdim, x.ndim), sum(hits, attrs.axes, true));
    return [mul(hits, share)];
  },
  expand: (dy, { inputs: [x] }) => [sumTo(dy, x.shape)],
  matmul: (dy, { inputs: [a, b], attrs }) => matmulGrads(dy, a, b, attrs.transA, attrs.transB),
  linear: (dy, { inputs: [x, w, b], attrs }) => [
    ...matmulGrads(dy, x, w, false, attrs.transB),
    b.requiresGrad ? sumTo(dy, b.shape) : null,
  ],
  reshape: (dy, { inputs: [x] }) => [reshape(dy, x.shape)],
  permute: (dy, { attrs }) => {
    const inverse = new Array<number>(attrs.perm.length);
    attrs.perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [permute(dy, inverse)];
  },
  // The tape runs slice and gather through sliceInto / gatherInto below (the same values without
  // a zero-filled tensor per use); these two entries remain the reference.
  slice: (dy, { inputs: [x], attrs }) => {
    const dx = zerosLike(x);
    const strides = contiguousStrides(x.shape);
    copyInto(
      dy.f32,
      0,
      contiguousStrides(dy.shape),
      dx.f32,
      attrs.start * strides[attrs.axis],
      strides,
      dy.shape,
      false,
    );
    return [dx];
  },
  concat: (dy, { inputs, attrs }) => {
    let start = 0;
    return inputs.map((t) => {
      const part = slice(dy, attrs.axis, start, start + t.shape[attrs.axis]);
      start += t.shape[attrs.axis];
      return part;
    });
  },
  gather: (dy, { inputs: [table, indices] }) => {
    const dt = zerosLike(table);
    backend.scatterAdd(dy.f32, indices.i32, dt.f32, sizeOf(table.shape.slice(1)));
    return [dt, null];
  },
  softmax: (dy, _n, out) => {
    const dx = emptyLike(out);
    backend.softmaxBackward(out.f32, dy.f32, dx.f32, rowsOf(out), colsOf(out));
    return [dx];
  },
  logSoftmax: (dy, _n, out) => {
    const dx = emptyLike(out);
    backend.logSoftmaxBackward(out.f32, dy.f32, dx.f32, rowsOf(out), colsOf(out));
    return [dx];
  },
  crossEntropy: (dy, { inputs: [logits, targets], attrs }) => {
    const dl = emptyLike(logits);
    const rows = rowsOf(logits);
    backend.crossEntropyBackward(
      logits.f32,
      targets.i32,
      attrs.lse,
      dy.f32,
      dl.f32,
      rows,
      colsOf(logits),
      attrs.ignoreIndex,
    );
    return [dl, null];
  },
  layerNorm: (dy, { inputs: [x, w, b], attrs }) => {
    const dx = emptyLike(x);
    const dw = emptyLike(w);
    const db = b ? emptyLike(b) : null;
    backend.layerNormBackward(
      dy.f32,
      x.f32,
      w.f32,
      attrs.mean,
      attrs.rstd,
      dx.f32,
      dw.f32,
      db ? db.f32 : null,
      rowsOf(x),
      colsOf(x),
    );
    return b ? [dx, dw, db] : [dx, dw];
  },
  rmsNorm: (dy, { inputs: [x, w], attrs }) => {
    const dx = emptyLike(x);
    const dw = emptyLike(w);
    backend.rmsNormBackward(dy.f32, x.f32, w.f32, attrs.rstd, dx.f32, dw.f32, rowsOf(x), colsOf(x));
    return [dx, dw];
  },
  rope: (dy, { attrs }) => {
    const dx = emptyLike(dy);
    const T = dy.shape[dy.ndim - 2];
    backend.rope(dy.f32, dx.f32, attrs.cos, attrs.sin, rowsOf(dy), T, colsOf(dy), true);
    return [dx];
  },
  attention: (dy, { inputs: [q, k, v, mask], attrs }, out) => {
    const dq = emptyLike(q);
    const dk = emptyLike(k);
    const dv = emptyLike(v);
    const [B, H, tq, d] = q.shape;
    backend.attentionBackward(
      q.f32,
      k.f32,
      v.f32,
      mask ? mask.f32 : null,
      out.f32,
      attrs.lse,
      dy.f32,
      dq.f32,
      dk.f32,
      dv.f32,
      B * H,
      tq,
      k.shape[2],
      d,
      attrs.scale,
      attrs.causal,
      attrs.maskGroup,
      attrs.kvGroup,
    );
    return [dq, dk, dv, null]; // no gradient to the additive mask
  },
};

/**
 * The slice fast path of the tape (see GradFastPaths): adds dy into x's region of `into`, or of
 * a new buffer zero outside it. GPT-2's q, k, v are three slices of one tensor: one buffer, no
 * full-size zero tensor per slice and no sums of them.
 */
function sliceInto(dy: Tensor, x: Tensor, attrs: OpAttrs['slice'], into: Tensor | null): Tensor {
  const strides = contiguousStrides(x.shape);
  const offset = attrs.start * strides[attrs.axis];
  const contiguous = x.shape.slice(0, attrs.axis).every((d) => d === 1);
  if (contiguous) {
    // The slice is one run [offset, offset + dy.size) of x.
    if (!into) {
      const dx = empty(x.size);
      dx.fill(0, 0, offset);
      dx.set(dy.f32, offset);
      dx.fill(0, offset + dy.size);
      return new Tensor(dx, x.shape);
    }
    const run = new Tensor(into.f32.subarray(offset, offset + dy.size), dy.shape);
    addInPlace(run, dy);
    return into;
  }
  const dx = into ?? zerosLike(x);
  copyInto(dy.f32, 0, contiguousStrides(dy.shape), dx.f32, offset, strides, dy.shape, into !== null);
  return dx;
}

/** The gather fast path of the tape (see GradFastPaths): scatter-add dy's rows into `into`. */
function gatherInto(dy: Tensor, table: Tensor, indices: Tensor, into: Tensor | null): Tensor {
  const dt = into ?? zerosLike(table);
  backend.scatterAdd(dy.f32, indices.i32, dt.f32, sizeOf(table.shape.slice(1)));
  return dt;
}

registerGradients(gradients, { sliceInto, gatherInto });
