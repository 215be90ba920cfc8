/**
 * Public API of src/eval/robustness: attacks on an unlearned model (relearning, weight
 * quantisation, prompt attacks) and the recovery rate that scores them. The evaluation runner
 * applies an attack, re-runs its metrics, and compares. Re-exports only.
 */
export {
  type AdversarialTemplate,
  type AttackIdsOptions,
  type AttackPrompt,
  adversarialQueries,
  adversarialTemplates,
  attackPromptIds,
  attackScoreRequests,
  attackText,
  type InContextOptions,
  inContextRelearning,
  type ParaphraseOptions,
  paraphraseQueries,
} from './prompts.ts';
export {
  fakeQuantize,
  type QuantizableWeight,
  type QuantizedValues,
  type QuantizeOptions,
  quantizableWeights,
  quantizeMatrix,
} from './quantize.ts';
export { type RecoveryOptions, recoveryRate } from './recovery.ts';
export { type RelearnOptions, type RelearnSplit, relearn, relearnSplit } from './relearn.ts';
