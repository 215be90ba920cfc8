/**
 * A searched study run's model is its search's chosen trial: search.ts keeps every trial as a
 * complete unlearning output, trained on the same data with the same setting and seed as the run
 * would be, so training it again would only repeat the same bytes. Adoption is one rename, so the
 * run folder holds either no model or the chosen trial's complete one; the other trials go.
 */
import { rename, rm } from 'node:fs/promises';
import { trialDir } from './search.ts';
import { type Manifest, readManifest } from './unlearn-job.ts';

/**
 * Move trial `index` of `trialsDir` to `modelDir` when it is complete and its run key is `key`;
 * null (nothing moved) otherwise: the search must run again.
 */
export async function adoptTrial(
  trialsDir: string,
  index: number,
  modelDir: string,
  key: string,
): Promise<Manifest | null> {
  if (!(index >= 0)) return null;
  const from = trialDir(trialsDir, index);
  const manifest = readManifest(from);
  if (!manifest || manifest.extra.runKey !== key) return null;
  await rm(modelDir, { recursive: true, force: true });
  await rename(from, modelDir);
  await rm(trialsDir, { recursive: true, force: true });
  return manifest;
}
