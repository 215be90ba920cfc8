/**
 * The primitive ops: each has a forward (in ops/), kernels in both backends and exactly one
 * entry in the gradient table (gradients.ts), whose type is a mapped type over this interface
 * so that a primitive without a gradient fails to compile. Attributes hold what the gradient
 * needs besides the inputs (axes, flags, saved statistics).
 */

export interface OpAttrs {
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  div: Record<string, never>;
  maximum: Record<string, never>;
  pow: Record<string, never>;
  neg: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
  sqrt: Record<string, never>;
  tanh: Record<string, never>;
  relu: Record<string, never>;
  sigmoid: Record<string, never>;
  abs: Record<string, never>;
  gelu: { approximate: 'tanh' | 'none' };
  silu: Record<string, never>;
  /** x·scale + shift with scalar constants. */
  affine: { scale: number; shift: number };
  /** inputs: [cond (no grad), a, b] */
  where: Record<string, never>;
  sum: { axes: number[]; keepdim: boolean };
  max: { axes: number[]; keepdim: boolean };
  /** broadcast to a larger shape (NumPy rules) */
  expand: Record<string, never>;
  matmul: { transA: boolean; transB: boolean };
  /** inputs: [x (…, k), weight (k, n) or (n, k) when transB, bias (n)]: x·op(weight) + bias */
  linear: { transB: boolean };
  reshape: Record<string, never>;
  permute: { perm: number[] };
  slice: { axis: number; start: number };
  concat: { axis: number };
  /** inputs: [table (V, …), indices (int32)]: rows of table */
  gather: Record<string, never>;
  softmax: Record<string, never>;
  logSoftmax: Record<string, never>;
  /** inputs: [logits (N, V), targets (N) int32]; output: per-row losses (N) */
  crossEntropy: { ignoreIndex: number; lse: Float32Array };
  /** inputs: [x, weight, bias?] */
  layerNorm: { eps: number; mean: Float32Array; rstd: Float32Array };
  /** inputs: [x, weight] */
  rmsNorm: { eps: number; rstd: Float32Array };
  /** inputs: [x (…, T, D)] */
  rope: { cos: Float32Array; sin: Float32Array };
  /** inputs: [q, k, v, mask?] */
  attention: { scale: number; causal: boolean; maskGroup: number; kvGroup: number; lse: Float32Array };
}

export type Primitive = keyof OpAttrs;
