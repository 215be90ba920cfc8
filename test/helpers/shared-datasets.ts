/**
 * Test helper: locates the shared datasets (TOFU, tokenizer files, extraction-benchmark arrays)
 * that live beside the repository in ../shared/datasets and are never copied into it. Promises:
 * paths are resolved from this file, not the working directory, and `skipUnless` gives node:test
 * a readable skip reason when a file is absent, so a checkout without the data skips, not fails —
 * except in CI (CI=true or LETHE_REQUIRE_SHARED=1), where a missing file fails the test file.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessPresent } from '../reliability/must-run.ts';

/** <repo>/../shared/datasets (this file is <repo>/test/helpers/shared-datasets.ts). */
export const DATASETS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets');

export const TOFU_DIR = join(DATASETS, 'tofu');
export const GPT2_DIR = join(DATASETS, 'tokenizers', 'gpt2');
export const MISTRAL_DIR = join(DATASETS, 'tokenizers', 'mistral-7b-v0.1');
export const EXTRACTION_DIR = join(DATASETS, 'lm_extraction_benchmark');

/** `false` when every path exists, else a skip message naming the first missing one (CI: throws). */
export function skipUnless(...paths: string[]): false | string {
  return skipUnlessPresent('shared dataset', paths, 'expected ../shared/datasets beside the repo');
}
