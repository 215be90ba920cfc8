export { isGradEnabled, noGrad } from './autograd.ts';
export type { CreateOptions } from './create.ts';
export { arange, full, ones, rand, randn, tensor, zeros } from './create.ts';
export { valueAndGrad } from './functional.ts';
export { gradients } from './gradients.ts';
export type { TensorLike } from './ops/elementwise.ts';
export {
  abs,
  add,
  affine,
  div,
  eq,
  exp,
  gelu,
  gt,
  log,
  maximum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  silu,
  sqrt,
  sub,
  tanh,
  where,
} from './ops/elementwise.ts';
export { concat, gather, permute, reshape, slice, transpose } from './ops/layout.ts';
export type { MatmulOptions } from './ops/matmul.ts';
export { linear, matmul } from './ops/matmul.ts';
export type { AttentionOptions, CrossEntropyOptions } from './ops/nn.ts';
export {
  attention,
  crossEntropy,
  dropout,
  IGNORE_INDEX,
  layerNorm,
  logSoftmax,
  rmsNorm,
  rope,
  ropeTables,
  softmax,
} from './ops/nn.ts';
export { expand, max, mean, sum, sumTo } from './ops/reduce.ts';
export { Rng } from './rng.ts';
export type { DType, NestedArray } from './tensor.ts';
export { Tensor } from './tensor.ts';
