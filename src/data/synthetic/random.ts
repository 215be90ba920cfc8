/**
 * Small deterministic helpers for the synthetic generator: named random streams derived from one
 * seed (so adding passages never changes the people), picking, and English article/capital rules.
 * Promises: everything here is a pure function of its inputs and the Rng state.
 */
import { Rng } from '../../tensor/rng.ts';

/** 32-bit FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** An independent stream for one purpose ("people", "fiction", ...) of a benchmark seed. */
export function streamFor(seed: number, purpose: string): Rng {
  return new Rng((Math.imul(seed | 0, 0x9e3779b1) ^ fnv1a(purpose)) | 0);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(0, items.length)];
}

/** Two different indices in [0, n) (n >= 2), e.g. a template and its paraphrase. */
export function twoIndices(rng: Rng, n: number): [number, number] {
  const a = rng.int(0, n);
  const b = (a + rng.int(1, n)) % n;
  return [a, b];
}

/** `k` distinct items drawn without replacement (k <= items.length). */
export function sample<T>(rng: Rng, items: readonly T[], k: number): T[] {
  const copy = [...items];
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, copy.length);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, k);
}

/** "a" or "an" before a word, by its first letter (good enough for lethe's own word lists). */
export function withArticle(phrase: string): string {
  return /^[aeiouAEIOU]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

export function capitalise(text: string): string {
  return text.length === 0 ? text : text[0].toUpperCase() + text.slice(1);
}

/**
 * Draw `k` values with `draw` that differ from `exclude` and from each other. Throws if the draw
 * keeps repeating (a value pool too small for k), rather than looping forever.
 */
export function distinctDraws(draw: () => string, k: number, exclude: readonly string[]): string[] {
  const seen = new Set(exclude);
  const out: string[] = [];
  for (let tries = 0; out.length < k; tries++) {
    if (tries > 1000 * (k + 1)) throw new Error(`cannot draw ${k} distinct values (pool too small)`);
    const v = draw();
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}
