/**
 * Reference unary kernels: `unary`, `unaryBackward` (codes index UNARY_OPS) and `affine`.
 * Promise: each value is computed in double precision and rounded once to float32. NaN propagates
 * through every op and every derivative that depends on x (relu(NaN) = NaN, relu'(NaN) = NaN,
 * abs'(NaN) = NaN; neg' is the constant −1).
 * dx is literally dy·f'(x), so a NaN dy also gives NaN.
 */
import { LetheError } from '../../errors.ts';
import { type F32, UNARY_OPS } from '../backend.ts';
import { normalCdf, normalPdf } from './special.ts';

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** σ(x) without overflow: exp is only ever taken of a non-positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x); // NaN also lands here and stays NaN
  return e / (1 + e);
}

function relu(x: number): number {
  return x > 0 || Number.isNaN(x) ? x : 0;
}

function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_A * x * x * x)));
}

function geluTanhGrad(x: number): number {
  const t = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * x * x);
}

/** x·Φ(x); Φ from erfc so the left tail keeps its relative precision. */
function geluErf(x: number): number {
  return x * normalCdf(x);
}

function geluErfGrad(x: number): number {
  return normalCdf(x) + x * normalPdf(x);
}

function siluGrad(x: number): number {
  const s = sigmoid(x);
  return s * (1 + x * (1 - s));
}

type Fn = (x: number) => number;

/** Forward functions, indexed like UNARY_OPS. */
const FORWARD: Record<(typeof UNARY_OPS)[number], Fn> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  relu,
  sigmoid,
  gelu_tanh: geluTanh,
  gelu_erf: geluErf,
  silu: (x) => x * sigmoid(x),
  abs: Math.abs,
};

/** Derivatives f'(x), indexed like UNARY_OPS. */
const DERIVATIVE: Record<(typeof UNARY_OPS)[number], Fn> = {
  neg: () => -1,
  exp: Math.exp,
  log: (x) => 1 / x,
  sqrt: (x) => 0.5 / Math.sqrt(x),
  tanh: (x) => {
    const t = Math.tanh(x);
    return 1 - t * t;
  },
  relu: (x) => (x > 0 ? 1 : Number.isNaN(x) ? x : 0),
  sigmoid: (x) => {
    const s = sigmoid(x);
    return s * (1 - s);
  },
  gelu_tanh: geluTanhGrad,
  gelu_erf: geluErfGrad,
  silu: siluGrad,
  abs: Math.sign,
};

function opName(op: number, kernel: string): (typeof UNARY_OPS)[number] {
  const name = UNARY_OPS[op];
  if (name === undefined) {
    throw new LetheError('unknown unary op code', {
      where: `js backend ${kernel}`,
      expected: `0..${UNARY_OPS.length - 1}`,
      found: String(op),
    });
  }
  return name;
}

export function unary(op: number, x: F32, out: F32): void {
  const f = FORWARD[opName(op, 'unary')];
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]);
}

export function unaryBackward(op: number, x: F32, dy: F32, dx: F32): void {
  const df = DERIVATIVE[opName(op, 'unaryBackward')];
  for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * df(x[i]);
}

export function affine(x: F32, out: F32, scale: number, shift: number): void {
  for (let i = 0; i < out.length; i++) out[i] = x[i] * scale + shift;
}
