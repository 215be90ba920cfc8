/**
 * Neural-network primitives with fused kernels: softmax, log-softmax, cross-entropy,
 * layer/RMS norm, rotary embeddings and scaled-dot-product attention; dropout (composite).
 */
import { backend } from '../../backend/index.ts';
import { ShapeError } from '../../errors.ts';
import { empty } from '../alloc.ts';
import { isGradEnabled, record } from '../autograd.ts';
import type { Rng } from '../rng.ts';
import { fmt, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { affine, mul } from './elementwise.ts';
import { sum } from './reduce.ts';

function rowsCols(op: string, x: Tensor): [number, number] {
  if (x.dtype !== 'float32' || x.ndim < 1)
    throw new ShapeError(`${op}: expected a float32 tensor of rank >= 1`);
  const cols = x.shape[x.ndim - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols('softmax', x);
  const out = empty(x.size);
  backend.softmax(x.f32, out, rows, cols);
  return record('softmax', new Tensor(out, x.shape), [x], {});
}

/** Log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols('logSoftmax', x);
  const out = empty(x.size);
  backend.logSoftmax(x.f32, out, rows, cols);
  return record('logSoftmax', new Tensor(out, x.shape), [x], {});
}

/**
 * The target label of a position that is not scored (padding, prompt tokens): skipped by
 * crossEntropy by default. -100, as in PyTorch, so label arrays carry over unchanged.
 */
export const IGNORE_INDEX = -100;

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (loss 0, no gradient). Default IGNORE_INDEX. */
  ignoreIndex?: number;
  /** 'none': per-position losses shaped like targets; 'sum'; 'mean' over non-ignored positions (default). */
  reduction?: 'none' | 'sum' | 'mean';
}

/**
 * Cross-entropy of logits (…, V) against int32 targets (…). The mean of a batch whose every
 * target is ignored is NaN (0/0, as in PyTorch), so a caller cannot mistake it for a real loss.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
  const [rows, cols] = rowsCols('crossEntropy', logits);
  if (targets.dtype !== 'int32' || targets.size !== rows || targets.ndim !== logits.ndim - 1) {
    throw new ShapeError(
      `crossEntropy: targets ${fmt(targets.shape)} do not match logits ${fmt(logits.shape)}`,
      {
        expected: `int32 targets of shape ${fmt(logits.shape.slice(0, -1))}`,
      },
    );
  }
  const t = targets.i32;
  let counted = 0;
  for (let i = 0; i < rows; i++) {
    if (t[i] === ignoreIndex) continue;
    if (t[i] < 0 || t[i] >= cols) {
      throw new ShapeError(`crossEntropy: target ${t[i]} at position ${i} is out of range [0, ${cols})`);
    }
    counted++;
  }
  const losses = empty(rows);
  const lse = empty(rows);
  backend.crossEntropy(logits.f32, t, losses, lse, rows, cols, ignoreIndex);
  const perRow = record('crossEntropy', new Tensor(losses, targets.shape), [logits, targets], {
    ignoreIndex,
    lse,
  });
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return perRow;
  const total = sum(perRow);
  return reduction === 'sum' ? total : affine(total, counted === 0 ? Number.NaN : 1 / counted);
}

function checkNormParam(op: string, p: Tensor | null, cols: number): void {
  if (p && (p.ndim !== 1 || p.shape[0] !== cols || p.dtype !== 'float32')) {
    throw new ShapeError(`${op}: parameter of shape ${fmt(p.shape)} does not match ${cols} features`);
  }
}

/** LayerNorm over the last axis with weight and optional bias (biased variance, as PyTorch). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor | null, eps = 1e-5): Tensor {
  const [rows, cols] = rowsCols('layerNorm', x);
  checkNormParam('layerNorm', weight, cols);
  checkNormParam('layerNorm', bias, cols);
  const out = empty(x.size);
  const mean = empty(rows);
  const rstd = empty(rows);
  backend.layerNorm(x.f32, weight.f32, bias ? bias.f32 : null, out, mean, rstd, rows, cols, eps);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record('layerNorm', new Tensor(out, x.shape), inputs, { eps, mean, rstd });
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight (HF Llama). */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const [rows, cols] = rowsCols('rmsNorm', x);
  checkNormParam('rmsNorm', weight, cols);
  const out = empty(x.size);
  const rstd = empty(rows);
  backend.rmsNorm(x.f32, weight.f32, out, rstd, rows, cols, eps);
  return record('rmsNorm', new Tensor(out, x.shape), [x, weight], { eps, rstd });
}

/** cos/sin tables (T, D/2) for rotary embeddings at the given positions. */
export function ropeTables(
  positions: ArrayLike<number>,
  headDim: number,
  theta = 10000,
): { cos: Float32Array; sin: Float32Array } {
  if (headDim % 2 !== 0) throw new ShapeError(`rope: head dimension ${headDim} must be even`);
  const half = headDim / 2;
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  for (let t = 0; t < positions.length; t++) {
    for (let i = 0; i < half; i++) {
      // Computed in double then rounded, like HF's float32 inv_freq · position product.
      const invFreq = Math.fround(1 / theta ** ((2 * i) / headDim));
      const angle = Math.fround(positions[t] * invFreq);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Rotary position embedding (rotate-half form) of x (…, T, D) with tables from ropeTables. */
export function rope(x: Tensor, tables: { cos: Float32Array; sin: Float32Array }): Tensor {
  if (x.ndim < 2) throw new ShapeError(`rope: expected (…, T, D), got ${fmt(x.shape)}`);
  const T = x.shape[x.ndim - 2];
  const d = x.shape[x.ndim - 1];
  if (tables.cos.length !== (T * d) / 2) {
    throw new ShapeError(`rope: tables hold ${tables.cos.length / (d / 2)} positions for T = ${T}`);
  }
  const out = empty(x.size);
  backend.rope(x.f32, out, tables.cos, tables.sin, T === 0 ? 0 : x.size / d, T, d, false);
  return record('rope', new Tensor(out, x.shape), [x], { cos: tables.cos, sin: tables.sin });
}

export interface AttentionOptions {
  causal?: boolean;
  /** Additive mask (…, Tq, Tk) broadcast over the leading dims of q (e.g. (B, 1, Tq, Tk) for all heads). */
  mask?: Tensor | null;
  /** Default 1/sqrt(D). */
  scale?: number;
}

/**
 * Scaled dot-product attention. q: (B, H, Tq, D); k, v: (B, Hkv, Tk, D) with H a multiple of Hkv
 * (grouped-query attention). Causal masking aligns the last query with the last key (KV cache).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    throw new ShapeError(
      `attention: expected 4-D q, k, v, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`,
    );
  }
  const [B, H, tq, d] = q.shape;
  const [Bk, Hkv, tk, dk] = k.shape;
  const sameKV = v.shape.every((s, i) => s === k.shape[i]);
  if (Bk !== B || dk !== d || !sameKV || Hkv === 0 || H % Hkv !== 0) {
    throw new ShapeError(`attention: q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)} do not fit`, {
      expected: 'q (B, H, Tq, D), k and v (B, Hkv, Tk, D) with H a multiple of Hkv',
    });
  }
  const mask = opts.mask ?? null;
  let maskGroup = 1;
  if (mask) {
    const ms = mask.shape;
    if (ms.length < 2 || ms[ms.length - 2] !== tq || ms[ms.length - 1] !== tk) {
      throw new ShapeError(`attention: mask ${fmt(ms)} must end in (Tq, Tk) = (${tq}, ${tk})`);
    }
    const blocks = mask.size / (tq * tk);
    // The mask's leading dims must be (B, 1), (1, 1), (B, H) or absent.
    if (blocks === 1) maskGroup = B * H;
    else if (blocks === B) maskGroup = H;
    else if (blocks === B * H) maskGroup = 1;
    else throw new ShapeError(`attention: mask ${fmt(ms)} does not broadcast over (B, H) = (${B}, ${H})`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const groups = B * H;
  const out = empty(q.size);
  const lse = empty(groups * tq);
  const kvGroup = H / Hkv;
  const causal = opts.causal ?? false;
  backend.attention(
    q.f32,
    k.f32,
    v.f32,
    mask ? mask.f32 : null,
    out,
    lse,
    groups,
    tq,
    tk,
    d,
    scale,
    causal,
    maskGroup,
    kvGroup,
  );
  const inputs = mask ? [q, k, v, mask] : [q, k, v];
  return record('attention', new Tensor(out, q.shape), inputs, { scale, causal, maskGroup, kvGroup, lse });
}

/**
 * Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p).
 * Identity when p = 0 or when not training. The mask comes from the caller's seeded Rng.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training = isGradEnabled()): Tensor {
  if (!(p >= 0 && p < 1)) throw new ShapeError(`dropout: p must be in [0, 1), got ${p}`);
  if (p === 0 || !training) return x;
  const keep = empty(sizeOf(x.shape));
  const scale = 1 / (1 - p);
  for (let i = 0; i < keep.length; i++) keep[i] = rng.uniform() >= p ? scale : 0;
  return mul(x, new Tensor(keep, x.shape));
}
