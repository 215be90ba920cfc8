/**
 * n-gram helpers and the extraction likelihood EL_n of Jang et al., "Knowledge Unlearning for
 * Mitigating Privacy Risks in Language Models" (arXiv 2210.01504), on token-id (or word) sequences.
 *
 * Promises
 * - ngrams(x, n) lists the |x| − n + 1 contiguous n-grams in order, repeats kept (none if |x| < n).
 * - ngramOverlap(generated, reference, n) is the paper's OVERLAP_n(a, b) with a = generated,
 *   b = reference: Σ_{c ∈ ng(a)} 1{c ∈ ng(b)} / |ng(a)| — the fraction of the generated continuation's
 *   n-grams (counted with repeats) that occur anywhere in the true continuation. The authors' code
 *   (knowledge-unlearning, validation_el) divides by |ng(b)| instead; the two agree whenever the
 *   generation is as long as the reference (the usual case: it is generated to that length), and
 *   { denominator: 'reference' } selects the code's form. Degenerate: a side with no n-grams gives 0
 *   (nothing can have been extracted), never NaN.
 * - extractionLikelihood(sequence, generations, n) = EL_n = (1 / (T − n)) Σ_{p=1}^{T−n}
 *   OVERLAP_n(g_p, x[p:]) for a sequence x of T tokens, where g_p = generations[p − 1] is the model's
 *   greedy continuation of the prefix x[:p] (up to T − p tokens). Prefix lengths run 1 … T − n (the
 *   authors' code: every prefix whose true continuation still has an n-gram; the paper's
 *   Σ_{t=1}^{T−n} OVERLAP(f(x_<t), x_≥t) is the same sum up to where it starts). n = 10 in the paper.
 *   Range [0, 1]; higher = more extractable (for a forget set, lower after unlearning is better).
 *   T ≤ n → NaN (no prefix leaves an n-gram to extract).
 */
import { ConfigError, ShapeError } from '../../errors.ts';

export type Token = number | string;

export interface OverlapOptions {
  /** 'generated' (default; the paper's |ng(a)|) or 'reference' (the authors' code, |ng(b)|). */
  denominator?: 'generated' | 'reference';
}

function checkN(n: number, where: string): void {
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new ConfigError(`${where}: n = ${n} is invalid`, { expected: 'an integer n ≥ 1' });
  }
}

/** A collision-free key for one n-gram (JSON keeps 1 and '1' apart and escapes separators). */
function key(tokens: readonly Token[], start: number, n: number): string {
  return JSON.stringify(tokens.slice(start, start + n));
}

/** The contiguous n-grams of `tokens`, in order, repeats kept. */
export function ngrams<T extends Token>(tokens: readonly T[], n: number): T[][] {
  checkN(n, 'ngrams');
  const out: T[][] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n));
  return out;
}

/**
 * OVERLAP_n(generated, reference): see the file header. In [0, 1] with the default denominator; with
 * 'reference' it exceeds 1 if the generation has more matching n-grams than the reference has n-grams
 * (possible only when the generation is the longer one, as in the authors' code).
 */
export function ngramOverlap(
  generated: readonly Token[],
  reference: readonly Token[],
  n: number,
  options: OverlapOptions = {},
): number {
  checkN(n, 'ngramOverlap');
  const nGen = Math.max(0, generated.length - n + 1);
  const nRef = Math.max(0, reference.length - n + 1);
  const denom = (options.denominator ?? 'generated') === 'generated' ? nGen : nRef;
  if (nGen === 0 || nRef === 0 || denom === 0) return 0;
  const refSet = new Set<string>();
  for (let i = 0; i < nRef; i++) refSet.add(key(reference, i, n));
  let hits = 0;
  for (let i = 0; i < nGen; i++) if (refSet.has(key(generated, i, n))) hits++;
  return hits / denom;
}

/**
 * EL_n of one sequence: the mean over prefix lengths p = 1 … T − n of
 * OVERLAP_n(generations[p − 1], sequence[p:]). generations must hold exactly T − n continuations.
 */
export function extractionLikelihood(
  sequence: readonly Token[],
  generations: readonly (readonly Token[])[],
  n: number,
  options: OverlapOptions = {},
): number {
  checkN(n, 'extractionLikelihood');
  const terms = sequence.length - n;
  if (terms <= 0) return Number.NaN;
  if (generations.length !== terms) {
    throw new ShapeError('extractionLikelihood: one generation per prefix length 1 … T − n is needed', {
      expected: `${terms} generations (T = ${sequence.length}, n = ${n})`,
      found: `${generations.length}`,
    });
  }
  let sum = 0;
  for (let p = 1; p <= terms; p++) sum += ngramOverlap(generations[p - 1], sequence.slice(p), n, options);
  return sum / terms;
}
