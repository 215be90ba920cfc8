/**
 * ROUGE-L (longest common subsequence) between a reference and a candidate text, computed as
 * Google's rouge_score package does (rouge_scorer.RougeScorer(['rougeL'], use_stemmer).score(
 * target=reference, prediction=candidate)).
 *
 * Promises
 * - Tokenizer = rouge_score's: lowercase; every run of characters outside [a-z0-9] becomes a space
 *   (so punctuation, accents and non-Latin letters split or vanish); split on whitespace; with
 *   stemming, tokens longer than 3 characters go through the Porter stemmer in NLTK's default
 *   NLTK_EXTENSIONS mode (what rouge_score instantiates); empty tokens are dropped.
 * - With L = |LCS(reference tokens, candidate tokens)|: precision = L / |candidate|, recall =
 *   L / |reference|, f1 = 2PR/(P + R), and 0 when P + R = 0. If either token list is empty all three are
 *   0 (rouge_score's convention, not NaN: an empty generation earns nothing). Range [0, 1]; higher =
 *   the candidate reproduces more of the reference in order.
 * - The two published uses are named: TOFU reports recall with stemming (tofuRougeL); MUSE reports
 *   F1 without stemming (museRougeL). Repeated words count once per occurrence (an LCS, not a set).
 * - O(|ref|·|cand|) time, O(min) memory.
 */
import { porterStem } from './porter.ts';

export interface RougeScore {
  precision: number;
  recall: number;
  f1: number;
}

export interface RougeOptions {
  /** Porter-stem tokens longer than 3 characters (default false). */
  stem?: boolean;
}

/** rouge_score's tokenizer (see the file header). */
export function rougeTokenize(text: string, options: RougeOptions = {}): string[] {
  const words = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/);
  const out: string[] = [];
  for (const w of words) {
    if (w.length === 0) continue;
    out.push(options.stem && w.length > 3 ? porterStem(w, 'nltk') : w);
  }
  return out;
}

/** Length of the longest common subsequence of two token lists (two-row dynamic programme). */
export function lcsLength<T>(a: readonly T[], b: readonly T[]): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  let prev = new Int32Array(short.length + 1);
  let cur = new Int32Array(short.length + 1);
  for (let i = 1; i <= long.length; i++) {
    const x = long[i - 1];
    for (let j = 1; j <= short.length; j++) {
      cur[j] = x === short[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[short.length];
}

/** F1 as rouge_score's scoring.fmeasure: 2PR/(P + R), 0 when P + R = 0. */
export function fMeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

/** ROUGE-L of pre-tokenized lists (reference first, as rouge_score's target). */
export function rougeLTokens<T>(reference: readonly T[], candidate: readonly T[]): RougeScore {
  if (reference.length === 0 || candidate.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const l = lcsLength(reference, candidate);
  const precision = l / candidate.length;
  const recall = l / reference.length;
  return { precision, recall, f1: fMeasure(precision, recall) };
}

/** ROUGE-L precision, recall and F1 of `candidate` (a generation) against `reference` (the truth). */
export function rougeL(reference: string, candidate: string, options: RougeOptions = {}): RougeScore {
  return rougeLTokens(rougeTokenize(reference, options), rougeTokenize(candidate, options));
}

/** TOFU's ROUGE: ROUGE-L recall with Porter stemming. Higher = more of the answer reproduced. */
export function tofuRougeL(reference: string, candidate: string): number {
  return rougeL(reference, candidate, { stem: true }).recall;
}

/** MUSE's ROUGE (VerbMem, KnowMem): ROUGE-L F1 without stemming. Higher = closer to the truth. */
export function museRougeL(reference: string, candidate: string): number {
  return rougeL(reference, candidate, { stem: false }).f1;
}
