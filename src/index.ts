/**
 * The `lethe` package: the workflows the CLI runs, as functions. Load and save models, train from
 * a recipe, prepare a target and its oracle, unlearn, evaluate, run a study and render its
 * report; the errors they throw. Engine-level pieces live in the subpath entries lethe/tensor,
 * lethe/models, lethe/unlearn, lethe/eval and lethe/study. Re-exports only (see docs/api.md).
 */

export { type EnvironmentInfo, environmentInfo } from './api/environment.ts';
export {
  defineStudy,
  loadSummary,
  type Prepared,
  type PrepareOptions,
  prepare,
  readStudy,
  renderLeaderboardText,
  renderMarkdown,
  renderReport,
  runStudy,
  type Study,
  type StudyResult,
  type Summary,
} from './api/study.ts';
export { type TrainFromRecipeOptions, type TrainSummary, trainFromRecipe } from './api/train.ts';
export {
  listMethods,
  type Manifest,
  runUnlearnJob,
  type UnlearnJob,
  type UnlearnOptions,
  type UnlearnResult,
  unlearn,
} from './api/unlearn.ts';
export type { TrainRecipe } from './config/train-config.ts';
export { loadTask, type Task, writeTask } from './data/index.ts';
export { resolveTask } from './data/resolve-task.ts';
export {
  BackendError,
  CheckpointError,
  ConfigError,
  DataError,
  LetheError,
  NumericError,
  ShapeError,
} from './errors.ts';
export {
  type EvalResults,
  type EvaluateRequest,
  evaluate,
  type ModelSource,
  readResults,
  runEval,
  SUITE_NAMES,
} from './eval/index.ts';
export { loadPretrained, type Pretrained, savePretrained } from './text/pretrained.ts';
