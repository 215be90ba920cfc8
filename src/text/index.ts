/** Public API of src/text: tokenizers (HF tokenizer.json loading, byte-level BPE training). Re-exports only. */

export type { FinishReason, GenerateOptions, Generation } from './generate.ts';
export { generate, sampleToken } from './generate.ts';
export type { Pretrained } from './pretrained.ts';
export { loadPretrained, savePretrained } from './pretrained.ts';
export type { ScoreOptions, ScoreRequest, ScoreResult } from './score.ts';
export { scoreSequences } from './score.ts';
export type { LoadTokenizerOptions } from './tokenizer/load.ts';
export { loadTokenizer, tokenizerFromJson } from './tokenizer/load.ts';
export type {
  AddedTokenJson,
  BpeModelJson,
  DecoderJson,
  NormalizerJson,
  PostProcessorJson,
  PreTokenizerJson,
  TokenizerJson,
} from './tokenizer/schema.ts';
export type {
  DecodeOptions,
  EncodeOptions,
  PaddedBatch,
  PadOptions,
  SpecialTokenNames,
} from './tokenizer/tokenizer.ts';
export { Tokenizer } from './tokenizer/tokenizer.ts';
export type { TrainBpeOptions } from './tokenizer/train-bpe.ts';
export { trainByteLevelBpe } from './tokenizer/train-bpe.ts';
