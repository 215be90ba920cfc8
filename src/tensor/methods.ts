/**
 * Method-style access to the ops (x.add(y).relu().sum()), attached to Tensor's prototype here so
 * that tensor.ts stays free of op imports.
 */
import { backward } from './autograd.ts';
import type { TensorLike } from './ops/elementwise.ts';
import * as ew from './ops/elementwise.ts';
import * as layout from './ops/layout.ts';
import { type MatmulOptions, matmul } from './ops/matmul.ts';
import * as nn from './ops/nn.ts';
import * as red from './ops/reduce.ts';
import { Tensor } from './tensor.ts';

declare module './tensor.ts' {
  interface Tensor {
    /** Backpropagate from this tensor (a scalar unless `grad` is given). */
    backward(grad?: Tensor): void;
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    tanh(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    abs(): Tensor;
    silu(): Tensor;
    gelu(approximate?: 'tanh' | 'none'): Tensor;
    sum(axes?: number | readonly number[], keepdim?: boolean): Tensor;
    mean(axes?: number | readonly number[], keepdim?: boolean): Tensor;
    max(axes?: number | readonly number[], keepdim?: boolean): Tensor;
    matmul(b: Tensor, opts?: MatmulOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(a?: number, b?: number): Tensor;
    slice(axis: number, start: number, end?: number): Tensor;
    softmax(): Tensor;
    logSoftmax(): Tensor;
  }
}

const P = Tensor.prototype;
P.backward = function (this: Tensor, grad?: Tensor) {
  backward(this, grad, { add: ew.add, addInPlace: ew.addInPlace });
};
P.add = function (this: Tensor, b: TensorLike) {
  return ew.add(this, b);
};
P.sub = function (this: Tensor, b: TensorLike) {
  return ew.sub(this, b);
};
P.mul = function (this: Tensor, b: TensorLike) {
  return ew.mul(this, b);
};
P.div = function (this: Tensor, b: TensorLike) {
  return ew.div(this, b);
};
P.pow = function (this: Tensor, b: TensorLike) {
  return ew.pow(this, b);
};
P.maximum = function (this: Tensor, b: TensorLike) {
  return ew.maximum(this, b);
};
const unaries = {
  neg: ew.neg,
  exp: ew.exp,
  log: ew.log,
  sqrt: ew.sqrt,
  tanh: ew.tanh,
  relu: ew.relu,
  sigmoid: ew.sigmoid,
  abs: ew.abs,
  silu: ew.silu,
};
for (const [name, fn] of Object.entries(unaries) as [keyof typeof unaries, (x: Tensor) => Tensor][]) {
  P[name] = function (this: Tensor) {
    return fn(this);
  };
}
P.gelu = function (this: Tensor, approximate?: 'tanh' | 'none') {
  return ew.gelu(this, approximate);
};
P.sum = function (this: Tensor, axes?: number | readonly number[], keepdim?: boolean) {
  return red.sum(this, axes, keepdim);
};
P.mean = function (this: Tensor, axes?: number | readonly number[], keepdim?: boolean) {
  return red.mean(this, axes, keepdim);
};
P.max = function (this: Tensor, axes?: number | readonly number[], keepdim?: boolean) {
  return red.max(this, axes, keepdim);
};
P.matmul = function (this: Tensor, b: Tensor, opts?: MatmulOptions) {
  return matmul(this, b, opts);
};
P.reshape = function (this: Tensor, shape: readonly number[]) {
  return layout.reshape(this, shape);
};
P.permute = function (this: Tensor, perm: readonly number[]) {
  return layout.permute(this, perm);
};
P.transpose = function (this: Tensor, a?: number, b?: number) {
  return layout.transpose(this, a, b);
};
P.slice = function (this: Tensor, axis: number, start: number, end?: number) {
  return layout.slice(this, axis, start, end);
};
P.softmax = function (this: Tensor) {
  return nn.softmax(this);
};
P.logSoftmax = function (this: Tensor) {
  return nn.logSoftmax(this);
};
