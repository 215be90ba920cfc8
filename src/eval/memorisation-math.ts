/**
 * Memorisation measures on teacher-forced argmax hits (1 where argmax p(·|x_<t) = x_t) of one
 * scored span, and the choice of prefix positions for the extraction likelihood.
 *
 *   EM (exact memorisation)      mean_t hit_t over the answer tokens
 *   ES (extraction strength)     1 − k* / |y|, k* the smallest k such that hit_t = 1 for every t ≥ k
 *                                (1: the whole answer follows greedily from the prompt alone;
 *                                0: even the last token is not predicted)
 *   MA (memorisation accuracy)   mean_t hit_t over the sequence (Jang et al.) — EM's formula on
 *                                the whole sequence rather than an answer
 * An empty span (|y| = 0) is degenerate: every measure is NaN, and aggregations leave it out.
 */
import { Rng } from '../tensor/index.ts';

export function exactMemorisation(hits: ArrayLike<number>): number {
  if (hits.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < hits.length; i++) s += hits[i] ? 1 : 0;
  return s / hits.length;
}

export const memorisationAccuracy = exactMemorisation;

export function extractionStrength(hits: ArrayLike<number>): number {
  const n = hits.length;
  if (n === 0) return Number.NaN;
  let k = n;
  while (k > 0 && hits[k - 1]) k--;
  return 1 - k / n;
}

/** A stable 32-bit hash of a string (FNV-1a), to seed per-item choices independently of order. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Prefix lengths t for EL_n of a sequence whose scored span is [start, T): every t in
 * [start, T − n] (each leaves at least n true tokens to compare), or `count` of them drawn
 * without replacement from Rng(seed ⊕ hash(id)), sorted. Empty when T − start < n.
 */
export function elPositions(
  id: string,
  start: number,
  T: number,
  n: number,
  count: number,
  seed: number,
): number[] {
  const all: number[] = [];
  for (let t = Math.max(1, start); t <= T - n; t++) all.push(t);
  if (all.length <= count) return all;
  const rng = new Rng((seed ^ hashString(id)) >>> 0);
  return rng
    .shuffle(all)
    .slice(0, count)
    .sort((a, b) => a - b);
}
