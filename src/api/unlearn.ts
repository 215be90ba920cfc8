/**
 * `lethe/unlearn`: unlearning methods (the registry and what a method is), the in-memory runner,
 * and the folder-to-folder job with its reproducibility manifest.
 */
export { type Manifest, readManifest, runUnlearnJob, type UnlearnJob } from '../study/unlearn-job.ts';
export { gradientMethod, inputMethod, statefulGradientMethod, weightMethod } from '../unlearn/define.ts';
export { allMethods, getMethod, listMethods, registerMethod } from '../unlearn/registry.ts';
export {
  parseArgStrings,
  resolveArgs,
  TrainingArgs,
  type UnlearnOptions,
  type UnlearnResult,
  unlearn,
} from '../unlearn/runner.ts';
export type {
  InputTransform,
  MethodContext,
  Need,
  NeedSpec,
  StatefulContext,
  UnlearnBatch,
  UnlearnMethod,
} from '../unlearn/types.ts';
