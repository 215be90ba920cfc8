/**
 * The Training Data Extraction Challenge arrays (../shared/datasets/lm_extraction_benchmark:
 * `<part>_preprefix/prefix/suffix.npy`, uint16 GPT-2 token ids, one 200-token example per row) as
 * an unlearning task in the style of Jang et al. (arXiv 2210.01504): forget = N sequences of the
 * training set, holdout = other sequences of the same set that are not used.
 *
 * Exact choice (stable, so results can be compared across N and across runs):
 * 1. perm = a Fisher-Yates permutation of the part's row indices, drawn from Rng(seed) (src/tensor/rng).
 * 2. forget = perm[0..N) — or the rows listed in `ids`. For a fixed seed the forget set of N is a
 *    prefix of the forget set of any larger N (forget(8) ⊂ forget(16)).
 * 3. reserved = perm[0..128) ∪ forget: every row any seed-chosen forget set could use.
 * 4. rest = perm without reserved rows, in permutation order; retain = rest[0..R),
 *    holdout = the last H rows of rest. So for a fixed seed, retain and holdout are the same for
 *    every N ≤ 128, and never overlap forget or each other.
 * Each item is `prefix + suffix` (100 tokens, prefixLength 50), or with `includePreprefix`
 * `preprefix + prefix + suffix` (200 tokens, prefixLength 150); ids are "<part>-<row>" where row
 * is the array row (the challenge's own example index).
 */
import { join } from 'node:path';
import { ConfigError, DataError } from '../errors.ts';
import { readNpy } from '../io/npy.ts';
import { Rng } from '../tensor/rng.ts';
import type { TokenItem } from './items.ts';
import { emptyEval, emptySplit, type Task, validateTask } from './task.ts';

/** Largest forget set chosen by seed; rows perm[0..MAX) are never retain or holdout. */
export const EXTRACTION_MAX_FORGET = 128;

export interface ExtractionOptions {
  /** Forget-set size N (1..128, default 32) when `ids` is not given. */
  n?: number;
  /** Explicit forget rows (array row indices) instead of a seeded choice. */
  ids?: number[];
  /** Seed of the row permutation (default 0). */
  seed?: number;
  /** Holdout size (default 128). */
  holdout?: number;
  /** Retain size (default 0: Jang et al. unlearn a pretrained model and keep no retain set). */
  retain?: number;
  /** Which arrays to read (default 'train'; 'val' has 1,000 rows). */
  part?: 'train' | 'val';
  /** Prepend the 100-token pre-prefix to each sequence (default false). */
  includePreprefix?: boolean;
}

interface Arrays {
  rows: number;
  columns: { data: Uint16Array; width: number }[];
}

function readPartArrays(dir: string, part: string, includePreprefix: boolean): Arrays {
  const names = [...(includePreprefix ? ['preprefix'] : []), 'prefix', 'suffix'];
  let rows = -1;
  const columns = names.map((name) => {
    const path = join(dir, `${part}_${name}.npy`);
    const arr = readNpy(path);
    if (arr.dtype !== 'uint16' || arr.shape.length !== 2 || arr.fortranOrder) {
      throw new DataError('extraction-benchmark arrays must be 2-D C-order uint16', {
        where: path,
        expected: 'dtype uint16, shape (rows, tokens), fortran_order False',
        found: `dtype ${arr.dtype}, shape (${arr.shape.join(', ')}), fortran_order ${arr.fortranOrder}`,
      });
    }
    if (rows !== -1 && arr.shape[0] !== rows) {
      throw new DataError(`${part} arrays disagree on the number of rows`, {
        where: path,
        expected: `${rows} rows`,
        found: `${arr.shape[0]}`,
      });
    }
    rows = arr.shape[0];
    return { data: arr.data as Uint16Array, width: arr.shape[1] };
  });
  return { rows, columns };
}

function sequence(arrays: Arrays, row: number): number[] {
  const out: number[] = [];
  for (const { data, width } of arrays.columns) {
    for (let j = 0; j < width; j++) out.push(data[row * width + j]);
  }
  return out;
}

function countOption(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) {
    throw new ConfigError(`extraction option ${name} must be an integer >= ${min}`, { found: String(value) });
  }
  return v;
}

/**
 * The rows chosen for forget, retain and holdout (see the file header for the rule). Exported so
 * the choice can be tested and reported without reading token arrays.
 */
export function chooseExtractionRows(
  rows: number,
  options: Pick<ExtractionOptions, 'n' | 'ids' | 'seed' | 'holdout' | 'retain'>,
): { forget: number[]; retain: number[]; holdout: number[] } {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed))
    throw new ConfigError('extraction seed must be an integer', { found: String(seed) });
  const holdoutN = countOption('holdout', options.holdout, 128, 0);
  const retainN = countOption('retain', options.retain, 0, 0);
  const perm = new Rng(seed).shuffle(Array.from({ length: rows }, (_, i) => i));
  let forget: number[];
  if (options.ids !== undefined) {
    if (options.n !== undefined && options.n !== options.ids.length) {
      throw new ConfigError('give either n or ids for the extraction forget set', {
        found: `n = ${options.n} with ${options.ids.length} ids`,
      });
    }
    if (options.ids.length === 0) throw new ConfigError('extraction ids must not be empty');
    const seen = new Set<number>();
    for (const id of options.ids) {
      if (!Number.isInteger(id) || id < 0 || id >= rows || seen.has(id)) {
        throw new ConfigError('extraction ids must be distinct row indices', {
          expected: `distinct integers in [0, ${rows})`,
          found: String(id),
        });
      }
      seen.add(id);
    }
    forget = [...options.ids];
  } else {
    const n = countOption('n', options.n, 32, 1);
    if (n > EXTRACTION_MAX_FORGET) {
      throw new ConfigError(`extraction forget size n must be at most ${EXTRACTION_MAX_FORGET}`, {
        found: String(n),
        hint: 'pass explicit ids for a larger forget set',
      });
    }
    forget = perm.slice(0, n);
  }
  const reserved = new Set([...perm.slice(0, EXTRACTION_MAX_FORGET), ...forget]);
  const rest = perm.filter((r) => !reserved.has(r));
  if (retainN + holdoutN > rest.length) {
    throw new ConfigError('extraction retain + holdout exceed the rows left', {
      expected: `retain + holdout <= ${rest.length}`,
      found: `${retainN} + ${holdoutN}`,
    });
  }
  return {
    forget,
    retain: rest.slice(0, retainN),
    holdout: holdoutN === 0 ? [] : rest.slice(rest.length - holdoutN),
  };
}

/** Load a forget/retain/holdout task from the extraction-benchmark arrays in `dir`. */
export function loadExtraction(dir: string, options: ExtractionOptions = {}): Task {
  const part = options.part ?? 'train';
  const includePreprefix = options.includePreprefix ?? false;
  const arrays = readPartArrays(dir, part, includePreprefix);
  const chosen = chooseExtractionRows(arrays.rows, options);
  const prefixLength = arrays.columns.slice(0, -1).reduce((a, c) => a + c.width, 0);
  const items = (rows: number[]): TokenItem[] =>
    rows.map((row) => ({ id: `${part}-${row}`, tokens: sequence(arrays, row), prefixLength }));
  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  splits.forget.tokens = items(chosen.forget);
  splits.retain.tokens = items(chosen.retain);
  splits.holdout.tokens = items(chosen.holdout);
  const label = options.ids !== undefined ? `ids${chosen.forget.length}` : `n${chosen.forget.length}`;
  const task: Task = {
    name: `extraction-${part}-${label}-s${options.seed ?? 0}`,
    format: 'tokens',
    description:
      `Training Data Extraction Challenge (${part}): forget ${chosen.forget.length} sequences, ` +
      `retain ${chosen.retain.length}, holdout ${chosen.holdout.length}; GPT-2 token ids`,
    splits,
    eval: emptyEval(),
    idk: [],
    meta: {
      source: 'lm-extraction-benchmark',
      part,
      seed: options.seed ?? 0,
      selection: options.ids !== undefined ? 'ids' : 'seeded-permutation',
      includePreprefix,
      tokenizer: 'gpt2',
      prefixLength,
    },
  };
  validateTask(task);
  return task;
}
