/**
 * Batched matrix multiplication with transpose flags and NumPy-broadcast batch dims:
 * out (..., m, n) = op(a) (..., m, k) · op(b) (..., k, n), op = transpose when the flag is set.
 * A 2-D right operand (a linear layer's weight) folds the left operand's batch into m: one GEMM.
 * `linear` is the fused x·op(W) + b of a layer: the output starts as the broadcast bias and the
 * GEMM accumulates into it (no separate broadcasting add pass and its output array).
 */
import { backend } from '../../backend/index.ts';
import { ShapeError } from '../../errors.ts';
import { empty } from '../alloc.ts';
import { record } from '../autograd.ts';
import { broadcastShapes, fmt, sameShape, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { reshape } from './layout.ts';
import { expand, sumTo } from './reduce.ts';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

function dims(t: Tensor, trans: boolean): { rows: number; cols: number; batch: number[] } {
  const n = t.ndim;
  return {
    rows: trans ? t.shape[n - 1] : t.shape[n - 2],
    cols: trans ? t.shape[n - 2] : t.shape[n - 1],
    batch: t.shape.slice(0, n - 2),
  };
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2 || a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new ShapeError(
      `matmul: needs float32 tensors of rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`,
    );
  }
  const da = dims(a, transA);
  const db = dims(b, transB);
  if (da.cols !== db.rows) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${fmt(a.shape)}${transA ? 'ᵀ' : ''} · ${fmt(b.shape)}${transB ? 'ᵀ' : ''}`,
      {
        expected: `op(a) (…, m, k) and op(b) (…, k, n)`,
        found: `k = ${da.cols} and ${db.rows}`,
      },
    );
  }
  const m = da.rows;
  const k = da.cols;
  const n = db.cols;
  let out: Float32Array;
  let shape: number[];
  if (b.ndim === 2 && !transA) {
    // (…, m, k) · (k, n): one GEMM with the batch folded into the rows.
    const rows = sizeOf(a.shape.slice(0, -1));
    out = empty(rows * n);
    backend.matmul(a.f32, b.f32, out, 1, rows, n, k, false, transB, 0, 0, 0, false);
    shape = [...a.shape.slice(0, -1), n];
  } else {
    const batchShape = broadcastShapes('matmul', da.batch, db.batch);
    const batch = sizeOf(batchShape);
    const operand = (t: Tensor, d: { batch: number[] }): { data: Float32Array; stride: number } => {
      const mat = t.shape[t.ndim - 2] * t.shape[t.ndim - 1];
      if (sizeOf(d.batch) === 1) return { data: t.f32, stride: 0 };
      const padded = [...new Array(batchShape.length - d.batch.length).fill(1), ...d.batch];
      if (sameShape(padded, batchShape)) return { data: t.f32, stride: mat };
      // Partial broadcast, e.g. (B,1,…)·(1,H,…): materialise the expansion (gradients sum it back).
      return { data: expand(t, [...batchShape, ...t.shape.slice(-2)]).f32, stride: mat };
    };
    const pa = operand(a, da);
    const pb = operand(b, db);
    out = empty(batch * m * n);
    backend.matmul(pa.data, pb.data, out, batch, m, n, k, transA, transB, pa.stride, pb.stride, m * n, false);
    shape = [...batchShape, m, n];
  }
  return record('matmul', new Tensor(out, shape), [a, b], { transA, transB });
}

/**
 * x (…, k) · op(weight) + bias (n), weight (k, n) or (n, k) with transB. Same values as
 * add(matmul(x, weight, { transB }), bias) up to rounding (the bias is summed first here).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor, opts: { transB?: boolean } = {}): Tensor {
  const transB = opts.transB ?? false;
  if (
    x.ndim < 2 ||
    weight.ndim !== 2 ||
    bias.ndim !== 1 ||
    [x, weight, bias].some((t) => t.dtype !== 'float32')
  ) {
    throw new ShapeError(
      `linear: needs float32 x (…, k) of rank >= 2, a 2-D weight and a 1-D bias, got ${fmt(x.shape)}, ${fmt(weight.shape)}, ${fmt(bias.shape)}`,
    );
  }
  const k = x.shape[x.ndim - 1];
  const [wk, n] = transB ? [weight.shape[1], weight.shape[0]] : [weight.shape[0], weight.shape[1]];
  if (wk !== k || bias.shape[0] !== n) {
    throw new ShapeError(
      `linear: ${fmt(x.shape)} · ${fmt(weight.shape)}${transB ? 'ᵀ' : ''} + ${fmt(bias.shape)} do not fit`,
      { expected: `weight ${transB ? `(${n}, ${k})` : `(${k}, n)`} and bias (n)` },
    );
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  const out = empty(rows * n);
  if (out.length > 0) {
    backend.copyStrided(
      bias.f32,
      0,
      Int32Array.of(0, 1),
      out,
      0,
      Int32Array.of(n, 1),
      Int32Array.of(rows, n),
      false,
    );
    backend.matmul(x.f32, weight.f32, out, 1, rows, n, k, false, transB, 0, 0, 0, true);
  }
  return record('linear', new Tensor(out, [...x.shape.slice(0, -1), n]), [x, weight, bias], { transB });
}

/** Gradients of matmul for both inputs (used by the gradient table); null where not required. */
export function matmulGrads(
  dy: Tensor,
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
): [Tensor | null, Tensor | null] {
  // C = op(A)·op(B): d op(A) = dC·op(B)ᵀ, d op(B) = op(A)ᵀ·dC, transposed back where op was a transpose.
  let da: Tensor | null = null;
  if (a.requiresGrad) {
    da = transA ? matmul(b, dy, { transA: transB, transB: true }) : matmul(dy, b, { transB: !transB });
    da = sumTo(da, a.shape);
  }
  let db: Tensor | null = null;
  if (b.requiresGrad) {
    if (b.ndim === 2 && a.ndim > 2 && !transA) {
      // The weight of a folded product: one GEMM over all rows instead of a batch of them summed.
      const a2 = reshape(a, [-1, a.shape[a.ndim - 1]]);
      const dy2 = reshape(dy, [-1, dy.shape[dy.ndim - 1]]);
      db = transB ? matmul(dy2, a2, { transA: true }) : matmul(a2, dy2, { transA: true });
    } else {
      db = transB ? matmul(dy, a, { transA: true, transB: transA }) : matmul(a, dy, { transA: !transA });
    }
    db = sumTo(db, b.shape);
  }
  return [da, db];
}
