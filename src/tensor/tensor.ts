/**
 * Tensor: a contiguous row-major float32 (or int32, for indices) array with a shape, an optional
 * gradient and, when produced by an op that needs one, a node of the autograd graph.
 * Reshape views and contiguous slices share storage; every other op writes a new array. Op
 * outputs are not to be written in place (gradient and optimiser bookkeeping only mutates
 * buffers it owns: leaf gradients, parameters, optimiser state).
 *
 * The method-style ops (x.add(y).relu().sum()) are class methods that call the functions in
 * ops/: tensor.ts and ops/ import each other, which is safe because neither touches the other's
 * exports while loading (only inside functions). No prototype patching: importing Tensor from
 * here gives every method (backward() also needs the gradient table, which src/tensor/index.ts
 * loads).
 */
import { ShapeError } from '../errors.ts';
import { backward, type Node } from './autograd.ts';
import type { TensorLike } from './ops/elementwise.ts';
import * as ew from './ops/elementwise.ts';
import * as layout from './ops/layout.ts';
import { type MatmulOptions, matmul } from './ops/matmul.ts';
import * as nn from './ops/nn.ts';
import * as red from './ops/reduce.ts';
import { checkShape, fmt, type Shape, sizeOf } from './shape.ts';

type Axes = number | readonly number[];

export type DType = 'float32' | 'int32';
export type Storage = Float32Array | Int32Array;

/** Nested number arrays, as returned by toArray(). */
export type NestedArray = number | NestedArray[];

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: Storage;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** The op that produced this tensor, while the graph is alive (null for leaves). */
  node: Node | null = null;
  /** Optional name, e.g. the HF parameter name. */
  name?: string;

  constructor(data: Storage, shape: Shape, requiresGrad = false) {
    checkShape('tensor', shape);
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmt(shape)}`, {
        expected: `${sizeOf(shape)} values`,
      });
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
    if (requiresGrad && this.dtype !== 'float32')
      throw new ShapeError('tensor: only float32 tensors can require grad');
    this.requiresGrad = requiresGrad;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The float32 storage (throws for int32 tensors). */
  get f32(): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new ShapeError('expected a float32 tensor, got int32');
    return this.data;
  }

  /** The int32 storage (throws for float32 tensors). */
  get i32(): Int32Array {
    if (!(this.data instanceof Int32Array)) throw new ShapeError('expected an int32 tensor, got float32');
    return this.data;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new ShapeError(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements`);
    return this.data[0];
  }

  /** The values as nested arrays following the shape. */
  toArray(): NestedArray {
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return this.data[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** A tensor sharing this one's values but outside the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  /** Drop the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  /** Backpropagate from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor): void {
    backward(this, grad, { add: ew.add, addInPlace: ew.addInPlace });
  }

  add(b: TensorLike): Tensor {
    return ew.add(this, b);
  }
  sub(b: TensorLike): Tensor {
    return ew.sub(this, b);
  }
  mul(b: TensorLike): Tensor {
    return ew.mul(this, b);
  }
  div(b: TensorLike): Tensor {
    return ew.div(this, b);
  }
  pow(b: TensorLike): Tensor {
    return ew.pow(this, b);
  }
  maximum(b: TensorLike): Tensor {
    return ew.maximum(this, b);
  }
  neg(): Tensor {
    return ew.neg(this);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  tanh(): Tensor {
    return ew.tanh(this);
  }
  relu(): Tensor {
    return ew.relu(this);
  }
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  abs(): Tensor {
    return ew.abs(this);
  }
  silu(): Tensor {
    return ew.silu(this);
  }
  gelu(approximate?: 'tanh' | 'none'): Tensor {
    return ew.gelu(this, approximate);
  }
  sum(axes?: Axes, keepdim?: boolean): Tensor {
    return red.sum(this, axes, keepdim);
  }
  mean(axes?: Axes, keepdim?: boolean): Tensor {
    return red.mean(this, axes, keepdim);
  }
  max(axes?: Axes, keepdim?: boolean): Tensor {
    return red.max(this, axes, keepdim);
  }
  matmul(b: Tensor, opts?: MatmulOptions): Tensor {
    return matmul(this, b, opts);
  }
  reshape(shape: readonly number[]): Tensor {
    return layout.reshape(this, shape);
  }
  permute(perm: readonly number[]): Tensor {
    return layout.permute(this, perm);
  }
  transpose(a?: number, b?: number): Tensor {
    return layout.transpose(this, a, b);
  }
  slice(axis: number, start: number, end?: number): Tensor {
    return layout.slice(this, axis, start, end);
  }
  softmax(): Tensor {
    return nn.softmax(this);
  }
  logSoftmax(): Tensor {
    return nn.logSoftmax(this);
  }
}
