/**
 * `lethe/unlearn`: unlearning methods (the registry and what a method is), the in-memory runner,
 * and the folder-to-folder job with its reproducibility manifest.
 */
// The built-in methods join the registry when this module loads (until the registry is an
// explicit value, importing the entry point is what makes getMethod('npo') work).
import '../unlearn/methods/index.ts';

export { type Manifest, readManifest, runUnlearnJob, type UnlearnJob } from '../study/unlearn-job.ts';
export { allMethods, getMethod, listMethods, registerMethod } from '../unlearn/registry.ts';
export {
  parseArgStrings,
  resolveArgs,
  TrainingArgs,
  type UnlearnOptions,
  type UnlearnResult,
  unlearn,
} from '../unlearn/runner.ts';
export type { InputTransform, UnlearnMethod } from '../unlearn/types.ts';
