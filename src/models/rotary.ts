/**
 * Rotary position embeddings as the HF models apply them (rotate-half form): on all of each
 * head's channels (Llama) or on the first `rotaryDim` of them with the rest passed through
 * (GPT-NeoX `rotary_pct`, Phi `partial_rotary_factor`), at per-row positions so that left-padded
 * batches rotate each row by its own positions.
 */
import { ShapeError } from '../errors.ts';
import { concat, rope, ropeTables, slice, type Tensor } from '../tensor/index.ts';

/** Rotary embedding of x (B, H, T, D) over all D channels at per-row positions (B·T). */
export function applyRope(x: Tensor, positions: Int32Array, theta: number): Tensor {
  const [B, , T, D] = x.shape;
  const first = positions.subarray(0, T);
  const shared = positions.every((p, i) => p === first[i % T]);
  if (shared) return rope(x, ropeTables(first, D, theta));
  // Rows at different positions (left-padded batches): rotate each row with its own table.
  const rows = Array.from({ length: B }, (_, b) =>
    rope(slice(x, 0, b, b + 1), ropeTables(positions.subarray(b * T, (b + 1) * T), D, theta)),
  );
  return concat(rows, 0);
}

/** Rotate the first rotaryDim channels of x (B, H, T, D); the other D − rotaryDim pass through. */
export function applyPartialRope(x: Tensor, positions: Int32Array, theta: number, rotaryDim: number): Tensor {
  const D = x.shape[3];
  if (rotaryDim === D) return applyRope(x, positions, theta);
  if (rotaryDim === 0) return x;
  const rotated = applyRope(slice(x, 3, 0, rotaryDim), positions, theta);
  return concat([rotated, slice(x, 3, rotaryDim, D)], 3);
}

/** Rotary channels per head: ⌊headDim · fraction⌋ as HF computes it; must be even. */
export function rotaryDims(headDim: number, fraction: number, model: string): number {
  const dims = Math.floor(headDim * fraction);
  if (dims % 2 !== 0 || fraction < 0 || fraction > 1) {
    throw new ShapeError(
      `${model}: rotary fraction ${fraction} of head size ${headDim} gives ${dims} channels`,
      {
        expected: 'an even number of rotary channels (a fraction in [0, 1])',
      },
    );
  }
  return dims;
}
