/**
 * lethe's data layer: benchmarks as data. The Task model and task files, loaders for TOFU, the
 * extraction benchmark, MUSE (released and flat layouts), WMDP, DecodingTrust's Enron PII files,
 * and the built-in synthetic benchmark. Re-exports only.
 */

export { ENRON_TEMPLATES, type EnronOptions, enronPrompt, loadEnronPii } from './enron.ts';
export { type ExampleLine, exampleLineSchema } from './example-lines.ts';
export {
  chooseExtractionRows,
  EXTRACTION_MAX_FORGET,
  type ExtractionOptions,
  loadExtraction,
} from './extraction.ts';
export { canonicalJson, contentHash } from './hash.ts';
export {
  ITEM_KINDS,
  type ItemKind,
  type ItemKinds,
  indexLetter,
  LINE_SCHEMAS,
  letterIndex,
  type McqItem,
  type PiiRecord,
  type QaItem,
  type TextItem,
  type TokenItem,
  type VerbatimItem,
} from './items.ts';
export { answerLetter, mcqFromOptions, type ReadMcqOptions, readMcq } from './mcq.ts';
export { loadMuse, type MuseOptions } from './muse.ts';
export { loadMuseRelease } from './muse-release.ts';
export { type Located, type ReadRecordsOptions, readLines, readRecords } from './records.ts';
export {
  buildSyntheticWorld,
  generateSynthetic,
  SYNTHETIC_SIZES,
  SYNTHETIC_VERSION,
  type SyntheticOptions,
  type SyntheticParams,
  type SyntheticSize,
  type SyntheticWorld,
  writeSyntheticTask,
} from './synthetic/generate.ts';
export {
  type EvalSets,
  emptyEval,
  emptySplit,
  type JsonValue,
  loadTask,
  requireForgetData,
  SPLIT_NAMES,
  SPLIT_PARTS,
  type Split,
  type SplitName,
  type SplitPart,
  splitHash,
  type Task,
  type TaskFile,
  TaskFileSchema,
  type TaskFormat,
  taskCounts,
  taskHash,
  taskWarnings,
  validateTask,
  writeTask,
} from './task.ts';
export { loadTofu, TOFU_SPLITS, type TofuOptions, type TofuSplit } from './tofu.ts';
export { loadWmdp, WMDP_DOMAINS, type WmdpDomain, type WmdpOptions } from './wmdp.ts';
