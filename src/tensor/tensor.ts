/**
 * Tensor: a contiguous row-major float32 (or int32, for indices) array with a shape, an optional
 * gradient and, when produced by an op that needs one, a node of the autograd graph.
 * Reshape views and contiguous slices share storage; every other op writes a new array. Op
 * outputs are not to be written in place (gradient and optimiser bookkeeping only mutates
 * buffers it owns: leaf gradients, parameters, optimiser state).
 */
import { ShapeError } from '../errors.ts';
import type { Node } from './autograd.ts';
import { checkShape, fmt, type Shape, sizeOf } from './shape.ts';

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
}
