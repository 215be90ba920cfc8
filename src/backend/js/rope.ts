/**
 * Reference rotary position embedding, rotate-half (HF Llama) form.
 * Promise: exactly the Backend contract; both halves of a pair are read before either is written,
 * so out === x also works.
 */
import type { F32 } from '../backend.ts';

export function rope(
  x: F32,
  out: F32,
  cos: F32,
  sin: F32,
  rows: number,
  T: number,
  d: number,
  inverse: boolean,
): void {
  const half = d >> 1;
  const sign = inverse ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const off = r * d;
    const tab = (r % T) * half;
    for (let i = 0; i < half; i++) {
      const c = cos[tab + i];
      const s = sign * sin[tab + i];
      const x1 = x[off + i];
      const x2 = x[off + i + half];
      out[off + i] = x1 * c - x2 * s;
      out[off + i + half] = x2 * c + x1 * s;
    }
  }
}
