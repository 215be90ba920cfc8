/** Elementwise primitives: broadcasting binary ops, unary maps, scalar affine, where, comparisons. */
import { type BinaryOp, backend, binaryCode, type UnaryOp, unaryCode } from '../../backend/index.ts';
import { ShapeError } from '../../errors.ts';
import { empty } from '../alloc.ts';
import { record } from '../autograd.ts';
import { broadcastShapes, broadcastStrides, coalesce, sameShape, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';

export type TensorLike = Tensor | number;

/** A scalar becomes a 1-element tensor; it broadcasts against anything. */
export function lift(x: TensorLike): Tensor {
  return typeof x === 'number' ? new Tensor(Float32Array.of(x), []) : x;
}

function floatOnly(op: string, ...ts: Tensor[]): void {
  for (const t of ts)
    if (t.dtype !== 'float32') throw new ShapeError(`${op}: expected float32 tensors, got int32`);
}

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  floatOnly(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(sizeOf(shape));
  const it = coalesce(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  backend.binary(binaryCode(op), a.f32, b.f32, out, it.shape, it.strides[0], it.strides[1]);
  return new Tensor(out, shape);
}

function binary(op: 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'pow', a: TensorLike, b: TensorLike): Tensor {
  const ta = lift(a);
  const tb = lift(b);
  return record(op, binaryForward(op, ta, tb), [ta, tb], {});
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** Elementwise maximum; NaN wins. Gradient goes to a where a >= b, else to b. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Elementwise a^b (both may be tensors). */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);

/** 1 where a == b else 0 (no gradient). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binaryForward('eq', lift(a), lift(b));
/** 1 where a > b else 0 (no gradient). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binaryForward('gt', lift(a), lift(b));

function unary(op: UnaryOp, x: Tensor): Tensor {
  floatOnly(op, x);
  const out = empty(x.size);
  backend.unary(unaryCode(op), x.f32, out);
  return new Tensor(out, x.shape);
}

type SimpleUnary = 'neg' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'relu' | 'sigmoid' | 'abs' | 'silu';
const simple =
  (op: SimpleUnary) =>
  (x: Tensor): Tensor =>
    record(op, unary(op, x), [x], {});

export const neg = simple('neg');
export const exp = simple('exp');
export const log = simple('log');
export const sqrt = simple('sqrt');
export const tanh = simple('tanh');
export const relu = simple('relu');
export const sigmoid = simple('sigmoid');
export const abs = simple('abs');
/** x·σ(x) (a.k.a. swish), Llama's MLP activation. */
export const silu = simple('silu');

/** GELU: exact erf form ('none', HF "gelu") or the tanh approximation ('tanh', HF "gelu_new"). */
export function gelu(x: Tensor, approximate: 'tanh' | 'none' = 'tanh'): Tensor {
  return record('gelu', unary(approximate === 'tanh' ? 'gelu_tanh' : 'gelu_erf', x), [x], { approximate });
}

/** x·scale + shift with scalar constants (one pass, no broadcast machinery). */
export function affine(x: Tensor, scale: number, shift = 0): Tensor {
  floatOnly('affine', x);
  const out = empty(x.size);
  backend.affine(x.f32, out, scale, shift);
  return record('affine', new Tensor(out, x.shape), [x], { scale, shift });
}

/** cond != 0 ? a : b, broadcasting all three. No gradient flows to cond. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = lift(a);
  const tb = lift(b);
  floatOnly('where', cond, ta, tb);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  const out = empty(sizeOf(shape));
  const it = coalesce(shape, [
    broadcastStrides(cond.shape, shape),
    broadcastStrides(ta.shape, shape),
    broadcastStrides(tb.shape, shape),
  ]);
  backend.where(cond.f32, ta.f32, tb.f32, out, it.shape, it.strides[0], it.strides[1], it.strides[2]);
  return record('where', new Tensor(out, shape), [cond, ta, tb], {});
}

/** dx = dy ⊙ f'(x) for a unary op, through the backend's fused kernel. */
export function unaryBackward(op: UnaryOp, x: Tensor, dy: Tensor): Tensor {
  const dx = empty(x.size);
  backend.unaryBackward(unaryCode(op), x.f32, dy.f32, dx);
  return new Tensor(dx, x.shape);
}

/** In-place a += b for same-shape tensors outside the graph (gradient and optimiser bookkeeping). */
export function addInPlace(a: Tensor, b: Tensor): void {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError('addInPlace: shapes differ');
  const one = Int32Array.of(1);
  backend.binary(binaryCode('add'), a.f32, b.f32, a.f32, Int32Array.of(a.size), one, one);
}
