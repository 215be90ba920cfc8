export type { Backend, F32, I32, UnaryOp, BinaryOp, ReduceOp } from './backend.ts';
export { UNARY_OPS, BINARY_OPS, REDUCE_OPS, unaryCode, binaryCode, reduceCode } from './backend.ts';
export { backend, jsBackend, useBackend, nativeBackend } from './select.ts';
