/** Public API of src/eval/text: ROUGE-L (rouge_score-compatible), the Porter stemmer, n-gram overlap and EL_n. Re-exports only. */

export type { OverlapOptions, Token } from './ngram.ts';
export { extractionLikelihood, ngramOverlap, ngrams } from './ngram.ts';
export type { PorterMode } from './porter.ts';
export { porterStem } from './porter.ts';
export type { RougeOptions, RougeScore } from './rouge.ts';
export { fMeasure, lcsLength, museRougeL, rougeL, rougeLTokens, rougeTokenize, tofuRougeL } from './rouge.ts';
