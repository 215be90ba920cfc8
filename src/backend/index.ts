export type { Backend, BinaryOp, F32, I32, PoolStats, ReduceOp, UnaryOp } from './backend.ts';
export { BINARY_OPS, binaryCode, REDUCE_OPS, reduceCode, UNARY_OPS, unaryCode } from './backend.ts';
export { backend, jsBackend, nativeBackend, nativeFallbackReason, useBackend } from './select.ts';
